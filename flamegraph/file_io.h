// Whole-file reads and writes with errors that name the file, for readers, writers and `goperf report`.
#pragma once

#include <string>
#include <string_view>

#include "symbolize/result.h"

namespace goperf::flamegraph {

Result<std::string> read_whole_file(const std::string& path);

// A file mapped read-only (large inputs are parsed in place, never copied). "-" and non-regular files
// are read into memory instead. The view stays valid as long as the MappedFile lives.
class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile();
  std::string_view data() const { return map_ ? std::string_view(static_cast<const char*>(map_), size_) : copy_; }

 private:
  MappedFile() = default;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::string copy_;
};
// Writes through a temporary file in the same directory renamed over `path`, so a failed write never
// leaves half a profile behind. "-" writes to stdout.
Status write_whole_file(const std::string& path, const std::string& data);

}  // namespace goperf::flamegraph

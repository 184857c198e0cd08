// CoreMemory: the address space of a crashed process, read from its core. What the kernel dumped (stacks, heap,
// written data) comes from the core; file-backed pages it did not dump (text, rodata, pclntab of the executable
// and shared libraries, per the default coredump_filter) come from the files NT_FILE names.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "unwind/core_file.h"
#include "unwind/mappings.h"  // strip_deleted_suffix
#include "unwind/memory.h"

namespace goperf::unwind {

class CoreMemory : public Memory {
 public:
  struct Options {
    std::string executable;  // use this file for the executable's mappings instead of NT_FILE's path
    std::string sysroot;     // prefix for every other NT_FILE path (a copy of the crashed host's files)
  };
  // A file NT_FILE names, as this CoreMemory resolved it.
  struct Backing {
    std::string core_path;   // as NT_FILE has it, " (deleted)" removed
    std::string local_path;  // what was opened (sysroot / --executable applied)
    bool found = false;      // false: its undumped pages read as unavailable
    bool is_executable = false;
  };

  static Result<std::unique_ptr<CoreMemory>> create(std::shared_ptr<const CoreFile> core, const Options& options);
  ~CoreMemory() override;

  Status read(uint64_t addr, std::span<uint8_t> out) const override;
  // Like read, but only bytes the kernel dumped into the core (never from a file): used to compare the core's
  // copy of the executable's first page and notes with the file on disk.
  Status read_dumped(uint64_t addr, std::span<uint8_t> out) const;

  const CoreFile& core() const { return *core_; }
  const std::shared_ptr<const CoreFile>& core_ptr() const { return core_; }
  const std::vector<Backing>& backings() const { return backings_info_; }
  // NT_FILE path -> the local path goperf reads it from ("" when none was found).
  std::string local_path(const std::string& core_path) const;

  struct MappedFile;  // a read-only mapping of one backing file

 private:
  CoreMemory() = default;
  std::shared_ptr<const CoreFile> core_;
  std::vector<Backing> backings_info_;
  std::vector<std::unique_ptr<MappedFile>> files_;  // parallel to core_->mapped_files(): index or nullptr
  std::vector<const MappedFile*> by_mapping_;
  mutable std::atomic<uint64_t> reads_{0};  // every kReleaseEvery reads, the core's pages are released
};

}  // namespace goperf::unwind

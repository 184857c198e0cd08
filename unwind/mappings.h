// Mappings: the sorted address ranges of a process (/proc/PID/maps) or a core (NT_FILE).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "symbolize/result.h"

namespace goperf::unwind {

struct Mapping {
  uint64_t start = 0, end = 0;  // [start, end)
  uint64_t offset = 0;          // file offset in bytes of `start`
  bool readable = true, writable = false, executable = false;
  std::string path;             // "" for anonymous memory; "[stack]", "[vdso]", ... for special ones
  // The mapped file's identity as the kernel shows it (the inode's superblock device, proc(5)); both 0
  // for anonymous memory and for a core's NT_FILE entries, which do not carry them.
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;

  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
  bool file_backed() const { return !path.empty() && path[0] == '/'; }
  bool has_identity() const { return inode != 0; }
  // The path without the " (deleted)" the kernel appends once the file is unlinked: the name a user knows.
  std::string display_path() const;
};

// Removes the " (deleted)" suffix the kernel appends to the path of an unlinked file (in /proc/PID/maps,
// /proc/PID/exe and a core's NT_FILE names alike).
std::string strip_deleted_suffix(const std::string& path);

class Mappings {
 public:
  Mappings() = default;
  explicit Mappings(std::vector<Mapping> mappings);  // sorts by start

  // /proc/PID/maps. kNotFound when the process is gone, kPermission when not allowed.
  static Result<Mappings> read_proc(int pid);
  // The text of a maps file (tests, fuzzing). Malformed lines are a kFormat error naming the line.
  static Result<Mappings> parse(std::string_view text);

  // Binary search; nullptr when addr is in no mapping. The pointer is valid while this object lives.
  const Mapping* find(uint64_t addr) const;
  const std::vector<Mapping>& all() const { return mappings_; }
  bool empty() const { return mappings_.empty(); }

 private:
  std::vector<Mapping> mappings_;
};

}  // namespace goperf::unwind

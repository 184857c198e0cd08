// AddressSpace: the modules (ELF files) mapped into a process or a core, and runtime pc -> module +
// link-time pc. Built from /proc/PID/maps (live) or from NT_FILE entries (core).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolize/result.h"
#include "unwind/mappings.h"

namespace goperf::symbolize {
class Module;
}

namespace goperf::unwind {

class Memory;

struct ModuleRef {
  const symbolize::Module* module = nullptr;  // valid while the AddressSpace lives
  uint64_t link_pc = 0;                       // runtime pc - bias: the address in the ELF file's terms
  uint64_t bias = 0;                          // load bias (0 for a non-PIE executable)
};

class AddressSpace {
 public:
  // From the file-backed mappings. Modules are opened lazily, on the first lookup in them. For a live
  // process (pid > 0) each file is opened through the process and used only when shown to be the mapped
  // one (unwind/mapped_file.h); files that fail are remembered with the reason and never retried.
  AddressSpace(Mappings mappings, pid_t pid = 0, std::string exe_link = "");
  // /proc/PID/maps and /proc/PID/exe of a live process.
  static Result<std::unique_ptr<AddressSpace>> for_process(pid_t pid);
  // A core's NT_FILE list: (start, end, file offset in bytes, path) per mapping.
  struct FileMapping {
    uint64_t start = 0, end = 0, offset = 0;
    std::string path;
  };
  static std::unique_ptr<AddressSpace> from_file_mappings(const std::vector<FileMapping>& files);

  ~AddressSpace();
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  // Supplies an already-open module for every mapping of `path` (a core's executable given on the
  // command line, a file found by build-id). Replaces whatever was (or would be) opened from the path.
  void set_module(const std::string& path, std::shared_ptr<const symbolize::Module> module);

  // Takes the files `other` opened for the same mappings (same path, device and inode): a re-read of the
  // maps does not open them again, and keeps those opened while the process lived.
  void reuse_modules(const AddressSpace& other);
  // Opens the file of every executable mapping now: a process's files are reachable through it only
  // while it lives, and samples are still symbolized after it exited.
  void open_executable_files() const;

  // The module containing pc (a runtime address) and its link-time pc; nullopt for anonymous
  // memory, JIT code, the vdso, or a file that could not be opened. Thread-safe.
  std::optional<ModuleRef> find(uint64_t pc) const;

  // The main executable: for a process, the file of /proc/PID/exe; else the first file-backed mapping's.
  // nullopt if unknown or if its file could not be used.
  std::optional<ModuleRef> main_module() const;
  // The same, or why not: its file could not be used (the message names what was tried), or it is unknown.
  Result<ModuleRef> executable() const;
  // The first Go module (the executable, or a Go shared library). nullopt for a non-Go process.
  std::optional<ModuleRef> go_module() const;
  // Why the file of mapping m could not be used (nullopt: it was, or it was not tried yet).
  std::optional<Error> open_error(const Mapping& m) const;
  // Why each file tried so far could not be used, one per file, by path.
  std::vector<Error> open_failures() const;

  const Mappings& mappings() const { return mappings_; }

 private:
  struct Entry;
  const Entry* entry_for(const Mapping& m) const;
  std::optional<ModuleRef> ref_for(const Mapping& m, uint64_t pc) const;
  std::string key_of(const Mapping& m) const;

  Mappings mappings_;
  pid_t pid_ = 0;
  std::string exe_link_;                    // /proc/PID/exe's target: the executable's path in the maps
  std::unique_ptr<const Memory> memory_;    // the process's memory, for the build-id check
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;  // by path + device + inode
};

}  // namespace goperf::unwind

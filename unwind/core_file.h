// CoreFile: an ELF core file of a Linux process (PT_LOAD segments, threads, mapped files, auxv, signal).
// The file is memory-mapped, never read whole; cores compressed by systemd-coredump (zstd, lz4, xz) are
// decompressed, streaming, into an unlinked temporary file that is then mapped the same way.
// Layouts follow the kernel's fs/binfmt_elf.c and include/uapi/linux/elfcore.h (amd64, arm64).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "symbolize/result.h"
#include "unwind/register_set.h"

namespace goperf::symbolize {
class ElfFile;
}

namespace goperf::unwind {

struct CoreThread {
  uint32_t tid = 0;      // pr_pid of NT_PRSTATUS: the kernel thread id
  int cursig = 0;        // pr_cursig: the signal this thread was handling (0 for bystanders)
  RegisterSet regs;      // pc, sp, fp, g (r14 / x28), tls_base (fs_base / NT_ARM_TLS)
  std::vector<uint64_t> raw_regs;  // user_regs_struct (amd64, 27 words) or user_pt_regs (arm64, 34)
};

// One NT_FILE entry: [start, end) maps the named file from byte offset file_offset.
struct CoreMappedFile {
  uint64_t start = 0, end = 0, file_offset = 0;
  std::string path;
};

// A PT_LOAD segment: [vaddr, vaddr + filesz) is in the core at offset; the rest up to memsz was not dumped.
struct CoreSegment {
  uint64_t vaddr = 0, memsz = 0, offset = 0, filesz = 0;
  uint32_t flags = 0;  // PF_R / PF_W / PF_X
};

// NT_SIGINFO: the signal that killed the process.
struct CoreSignal {
  bool present = false;
  int signo = 0, code = 0, err = 0;
  uint64_t addr = 0;  // si_addr: the faulting address of SIGSEGV/SIGBUS/SIGILL/SIGFPE
};

// NT_PRPSINFO.
struct CoreProcessInfo {
  bool present = false;
  uint32_t pid = 0, ppid = 0, uid = 0, gid = 0;
  std::string fname;   // the executable's name, at most 15 characters
  std::string psargs;  // the command line, at most 80 characters
};

class CoreFile {
 public:
  // Maps the core (decompressing it first when it is zstd/lz4/xz). Errors name the path and say what is
  // wrong: missing, empty, not ELF, an ELF that is not a core, truncated inside a segment.
  // executable: the program's file when the caller knows it; used only for a core without NT_FILE, whose
  // executable mappings are rebuilt from it (else from the file AT_EXECFN names, core_executable_mappings.h).
  static Result<std::shared_ptr<const CoreFile>> open(const std::string& path, const std::string& executable = {});
  // Over bytes the caller keeps alive for the lifetime of the result (fuzzing, tests). Not decompressed.
  static Result<std::shared_ptr<const CoreFile>> from_bytes(std::span<const uint8_t> bytes, std::string name);
  ~CoreFile();
  CoreFile(const CoreFile&) = delete;
  CoreFile& operator=(const CoreFile&) = delete;

  const std::string& path() const;
  const char* compression() const;  // "zstd", "lz4", "xz" or nullptr
  Arch arch() const;
  const symbolize::ElfFile& elf() const;

  const std::vector<CoreSegment>& segments() const;        // PT_LOAD, sorted by vaddr
  const std::vector<CoreThread>& threads() const;          // NT_PRSTATUS order: the first took the signal
  const std::vector<CoreMappedFile>& mapped_files() const; // NT_FILE (or rebuilt without it), sorted by start
  const std::string& execfn() const;                       // AT_EXECFN's string, if dumped
  const std::vector<std::pair<uint64_t, uint64_t>>& auxv() const;
  std::optional<uint64_t> auxv_value(uint64_t type) const;
  const CoreSignal& signal() const;
  const CoreProcessInfo& process() const;

  // The thread that took the fatal signal: the first NT_PRSTATUS with a non-zero pr_cursig, else the first.
  const CoreThread* crashing_thread() const;

  // The dumped bytes at [addr, addr + size): all of them must lie in the file-backed part of one
  // PT_LOAD segment. kUnavailable otherwise. The span lives as long as this CoreFile.
  Result<std::span<const uint8_t>> read(uint64_t addr, uint64_t size) const;
  // How many dumped bytes start at addr within one segment (0 when addr is not dumped).
  std::span<const uint8_t> dumped_at(uint64_t addr) const;

  // Drops this process's page-table entries for the mapped core (madvise MADV_DONTNEED): the pages stay in the
  // page cache and fault back in cheaply, but no longer count as our resident memory. Spans returned earlier
  // stay valid. CoreMemory calls it as it reads, so that walking every goroutine of a large core does not make
  // the whole core resident.
  void release_pages() const;

  // The NT_FILE entry of the executable: the mapping that holds AT_ENTRY (else AT_PHDR), or nullptr.
  const CoreMappedFile* executable_mapping() const;

 private:
  struct Impl;
  explicit CoreFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::unwind

// ProcessMemory: Memory over a live process, read with process_vm_readv (falling back to /proc/PID/mem).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "unwind/memory.h"

namespace goperf::unwind {

class ProcessMemory final : public Memory {
 public:
  explicit ProcessMemory(pid_t pid);
  ~ProcessMemory() override;
  ProcessMemory(const ProcessMemory&) = delete;
  ProcessMemory& operator=(const ProcessMemory&) = delete;

  Status read(uint64_t addr, std::span<uint8_t> out) const override;

  // Many reads in as few system calls as possible (process_vm_readv takes up to IOV_MAX ranges).
  // remote[i] is copied into local[i]; ok[i] says whether that range was read completely.
  // Returns the number of ranges read completely. Used to copy every goroutine stack in one go.
  size_t read_many(std::span<const iovec> remote, std::span<const iovec> local, std::span<bool> ok) const;

  pid_t pid() const { return pid_; }

 private:
  Status read_proc_mem(uint64_t addr, std::span<uint8_t> out) const;

  pid_t pid_;
  mutable int mem_fd_ = -1;           // /proc/PID/mem, opened on first fallback
  mutable bool vm_readv_works_ = true;  // false once process_vm_readv failed with ENOSYS/EPERM
};

}  // namespace goperf::unwind

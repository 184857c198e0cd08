// read_ptrace_registers on arm64 hosts: user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h) through
// PTRACE_GETREGSET NT_PRSTATUS (arm64 has no PTRACE_GETREGS), and tpidr_el0 through NT_ARM_TLS.
#if defined(__aarch64__)
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "unwind/ptrace_registers.h"

namespace goperf::unwind {

Result<RegisterSet> read_ptrace_registers(pid_t tid) {
  user_regs_struct r{};
  iovec iov{&r, sizeof r};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
    return make_error(ErrorCode::kIo, "reading the registers of thread " + std::to_string(tid) + ": " + std::strerror(errno));
  RegisterSet regs;
  regs.arch = Arch::kArm64;
  regs.pc = r.pc;
  regs.sp = r.sp;
  regs.fp = r.regs[29];
  regs.lr = r.regs[30];
  regs.g = r.regs[28];  // Go's arm64 ABIInternal keeps g in R28 (src/cmd/compile/abi-internal.md)
  uint64_t tpidr = 0;
  iovec tls{&tpidr, sizeof tpidr};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_ARM_TLS), &tls) == 0) regs.tls_base = tpidr;
  return regs;
}

}  // namespace goperf::unwind
#endif

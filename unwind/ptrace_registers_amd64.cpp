// read_ptrace_registers on amd64 hosts: user_regs_struct (arch/x86/include/asm/user_64.h) by PTRACE_GETREGS.
#if defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/user.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "unwind/ptrace_registers.h"

namespace goperf::unwind {

Result<RegisterSet> read_ptrace_registers(pid_t tid) {
  user_regs_struct r{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) != 0)
    return make_error(ErrorCode::kIo, "reading the registers of thread " + std::to_string(tid) + ": " + std::strerror(errno));
  RegisterSet regs;
  regs.arch = Arch::kAmd64;
  regs.pc = r.rip;
  regs.sp = r.rsp;
  regs.fp = r.rbp;
  regs.g = r.r14;
  regs.tls_base = r.fs_base;
  return regs;
}

}  // namespace goperf::unwind
#endif

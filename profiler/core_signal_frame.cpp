// Signal-frame crossing for core threads. The Go runtime installs runtime.sigreturn__sigaction (Go 1.19/1.20:
// runtime.sigreturn) as sa_restorer (src/runtime/os_linux.go setsig), and the kernel's x86_64 rt_sigframe
// (arch/x86/include/asm/sigframe.h) starts with that restorer address followed by the ucontext, whose
// uc_mcontext (struct sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip) sits 40 bytes in.
#include "profiler/core_signal_frame.h"

#include <array>
#include <string_view>

#include "symbolize/module.h"
#include "symbolize/go_functions.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"
#include "unwind/stack_walker.h"

namespace goperf::profiler {
namespace {

constexpr uint64_t kMcontext = 40;
constexpr uint64_t kR14 = kMcontext + 6 * 8, kRbp = kMcontext + 10 * 8, kRsp = kMcontext + 15 * 8, kRip = kMcontext + 16 * 8;
constexpr uint64_t kSiginfo = 304;
constexpr uint64_t kScanBytes = 1024;  // sigtramp saves the host registers and reserves spill slots

std::string_view function_at(const unwind::AddressSpace& space, uint64_t pc, uint64_t* entry) {
  auto ref = space.find(pc);
  if (!ref) return {};
  auto f = symbolize::find_go_func(*ref->module, ref->link_pc);
  if (!f) return {};
  *entry = f->entry + ref->bias;
  return f->name;
}

}  // namespace

bool cross_signal_frame(const unwind::Memory& memory, const unwind::AddressSpace& space, unwind::RegisterSet& regs,
                        CrossedSignal* info) {
  if (regs.arch != unwind::Arch::kAmd64) return false;
  auto go = space.go_module();
  if (!go) return false;
  std::optional<symbolize::FuncInfo> restorer = symbolize::find_go_func_by_name(*go->module, "runtime.sigreturn__sigaction");
  if (!restorer) restorer = symbolize::find_go_func_by_name(*go->module, "runtime.sigreturn");
  if (!restorer) return false;
  const uint64_t restorer_pc = restorer->entry + go->bias;

  std::array<unwind::PhysicalFrame, 16> frames;
  unwind::StackWalker walker(memory, space);
  auto r = walker.walk(regs, {}, frames);
  // The handler's return address is the restorer (Go's own, or libc's __restore_rt when cgo installed the
  // handler through sigaction(3)) and the ucontext follows it: at sigtramp's CFA. When the walk did not reach
  // sigtramp, look for Go's restorer above sigtrampgo.
  uint64_t uc = 0;
  for (size_t i = 0; i < r.count && uc == 0; i++) {
    uint64_t entry = 0;
    std::string_view name = function_at(space, frames[i].pc, &entry);
    if ((name == "runtime.sigtramp" || name == "runtime.cgoSigtramp") && frames[i].fp != 0) uc = frames[i].fp;
  }
  for (size_t i = 0; i < r.count && uc == 0; i++) {
    uint64_t entry = 0;
    if (function_at(space, frames[i].pc, &entry) != "runtime.sigtrampgo") continue;
    for (uint64_t a = frames[i].sp; a < frames[i].sp + kScanBytes && uc == 0; a += 8) {
      auto word = memory.read_u64(a);
      if (!word) break;
      if (*word == restorer_pc) uc = a + 8;
    }
    break;
  }
  if (uc == 0) return false;
  auto rip = memory.read_u64(uc + kRip), rsp = memory.read_u64(uc + kRsp), rbp = memory.read_u64(uc + kRbp),
       r14 = memory.read_u64(uc + kR14);
  if (!rip || !rsp || !rbp || !r14 || *rip == 0 || *rsp == 0) return false;
  regs.pc = *rip;
  regs.sp = *rsp;
  regs.fp = *rbp;
  regs.g = *r14;
  if (info != nullptr) {
    // The kernel's struct ucontext is 304 bytes (flags, link, stack, sigcontext, sigmask); siginfo follows.
    auto signo = memory.read_value<int32_t>(uc + kSiginfo), code = memory.read_value<int32_t>(uc + kSiginfo + 8);
    auto addr = memory.read_u64(uc + kSiginfo + 16);
    if (signo && code && addr) *info = {*signo, *code, *addr};
  }
  return true;
}

}  // namespace goperf::profiler

// The kernel's x86_64 rt_sigframe (arch/x86/include/asm/sigframe.h): the restorer address, then the
// ucontext (flags, link, stack, then uc_mcontext, a struct sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx,
// rax, rcx, rsp, rip, ...), 304 bytes in all, then the siginfo.
#include "unwind/memory.h"
#include "unwind/signal_frame_layout.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kMcontext = 40;
constexpr uint64_t kR14 = kMcontext + 6 * 8, kRbp = kMcontext + 10 * 8, kRsp = kMcontext + 15 * 8,
                   kRip = kMcontext + 16 * 8;
constexpr uint64_t kSiginfo = 304;  // sizeof(struct ucontext): siginfo follows it

class Amd64SignalFrameLayout final : public SignalFrameLayout {
 public:
  uint64_t ucontext_after_restorer() const override { return 8; }

  bool read_context(const Memory& memory, uint64_t uc, RegisterSet& regs) const override {
    auto rip = memory.read_u64(uc + kRip), rsp = memory.read_u64(uc + kRsp), rbp = memory.read_u64(uc + kRbp),
         r14 = memory.read_u64(uc + kR14);
    if (!rip || !rsp || !rbp || !r14 || *rip == 0 || *rsp == 0) return false;
    regs.pc = *rip;
    regs.sp = *rsp;
    regs.fp = *rbp;
    regs.g = *r14;  // Go's ABIInternal keeps g in R14
    return true;
  }

  std::optional<CrossedSignal> read_siginfo(const Memory& memory, uint64_t uc) const override {
    auto signo = memory.read_value<int32_t>(uc + kSiginfo), code = memory.read_value<int32_t>(uc + kSiginfo + 8);
    auto addr = memory.read_u64(uc + kSiginfo + 16);
    if (!signo || !code || !addr) return std::nullopt;
    return CrossedSignal{*signo, *code, *addr};
  }
};

}  // namespace

const SignalFrameLayout& amd64_signal_frame_layout() {
  static const Amd64SignalFrameLayout layout;
  return layout;
}

const SignalFrameLayout* signal_frame_layout(Arch arch) {
  return arch == Arch::kAmd64 ? &amd64_signal_frame_layout() : nullptr;
}

}  // namespace goperf::unwind

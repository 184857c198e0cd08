// arm64 frames (src/runtime/traceback.go unwinder.next for LR machines): BL puts the return address in
// LR; a function with a frame saves LR at the bottom of its frame (0(RSP)), a frameless leaf keeps it in
// LR. An injected call (sigpanic, asyncPreempt) sits on an extra 16-byte aligned slot. See frame_rules.h.
#pragma once

#include <algorithm>
#include <optional>
#include <span>

#include "unwind/frame_rules.h"
#include "unwind/memory.h"

namespace goperf::unwind {

struct Arm64FrameRules {
  static constexpr uint64_t kCallBytes = 0;

  // A frame's prologue saves the caller's FP just below it (-8(RSP), obj7.go): the caller's frame pointer,
  // which a vDSO caller's frame is found by (vdso_caller_cfa). For the innermost frame that slot is below the
  // sampled sp, outside a sampled stack copy: the caller's FP is then unknown (0), never the frame's own FP
  // (walltime's own FP passed up as time.now's made vdso_caller_cfa find walltime's frame again: a loop).
  // A frameless frame whose LR is unknown (0: after_injected_call could not read it) has no caller to give.
  static std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& f) {
    if (f.innermost && f.delta == 0) {
      if (f.lr == 0) return std::nullopt;
      return GoCaller{f.lr, f.cfa, f.fp};
    }
    auto ret = memory.read_u64(f.sp);
    if (!ret) return std::nullopt;
    GoCaller c{*ret, f.cfa, f.fp};
    if (f.delta > 0) c.fp = memory.read_u64(f.sp - 8).value_or(0);
    return c;
  }

  // The interrupted function's LR may be the extra word when its own frame is empty (unwinder.next):
  // signal_arm64.go pushCall saves it there and points LR at the interrupted pc. Unreadable (a sampled copy of
  // the signal stack, the goroutine's elsewhere): unknown, 0, never the LR pushCall left.
  static uint64_t after_injected_call(const Memory& memory, uint64_t cfa, uint64_t& lr) {
    lr = memory.read_u64(cfa).value_or(0);
    return cfa + 16;
  }

  // walltime/nanotime1 (sys_linux_arm64.s) keep their frame's sp in R20 and move RSP to g0's stack for
  // the call; their frame pointer still marks the frame, set by the prologue to sp - 8 (cmd/internal/obj/
  // arm64 obj7.go: saved FP at -8(RSP), FP = RSP - 8). Not when fp is where the frame is anyway (sp not
  // moved), nor in the prologue before FP is set (fp still the caller's: fp + 8 is the caller's sp).
  static std::optional<uint64_t> vdso_caller_cfa(int32_t delta, uint64_t fp, uint64_t pcsp_cfa) {
    if (delta <= 0 || fp == 0 || (fp & 7) != 0) return std::nullopt;
    const uint64_t frame_sp = fp + 8;
    if (frame_sp == pcsp_cfa - static_cast<uint64_t>(delta) || frame_sp == pcsp_cfa) return std::nullopt;
    return frame_sp + static_cast<uint64_t>(delta);
  }
  // A vDSO function's return address is in LR until its prologue stores a frame record, which the
  // frame-pointer step then reads (Walk::vdso_frame).
  static int vdso_leaf_return_slots(uint64_t, bool, uint64_t[2]) { return 0; }
  static constexpr bool kLeafReturnInLr = true;

  // A return address C code signed (PACIASP: the arm64 vDSO and C libraries built with branch
  // protection) carries its pointer-authentication code above the user address bits; Go code signs
  // nothing. Linux gives user space at most 48 address bits where Go runs (arm64 VA_BITS 48).
  static uint64_t strip_signature(uint64_t return_address) { return return_address & ((1ull << 48) - 1); }

  // walltime and nanotime1 (sys_linux_arm64.s) move RSP to g0's stack but not R29: their frame record and
  // every Go caller's stay on the goroutine's stack, chained by R29, so the kernel's frame-record walk at a
  // sample in the vDSO gives the callers (vdso_continuation.cpp; the arm64 machine: 134 of 134 clock reads).
  static constexpr bool kVdsoCallerFrameRecord = true;

  // Go sets no sa_restorer on arm64 (os_linux.go setsig: 386 and amd64 only), so a handler returns into the
  // kernel's trampoline in the vDSO (arch/arm64/kernel/vdso/sigreturn.S): `mov x8, #__NR_rt_sigreturn;
  // svc #0`, the two words libgcc's aarch64 linux-unwind.h matches too. There sp is the kernel's rt_sigframe
  // (signal.c setup_return); its x29 points at a frame record of the interrupted fp and lr, which skips the
  // interrupted pc: the frame-pointer step would drop a frameless leaf and read its caller's frame at the
  // wrong sp. The interrupted registers are in the frame instead.
  static bool is_sigreturn_trampoline(std::span<const uint8_t> code) {
    static constexpr uint8_t kTrampoline[8] = {0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4};
    return code.size() == sizeof kTrampoline && std::equal(code.begin(), code.end(), kTrampoline);
  }
  // struct rt_sigframe { siginfo (128 bytes); ucontext } (arch/arm64/kernel/signal.c); in the ucontext
  // (uapi asm/ucontext.h) uc_mcontext starts at 176 (flags, link, stack_t, sigset, 120 unused bytes, 16-byte
  // aligned); struct sigcontext is fault_address, regs[31], sp, pc. Go's defs_linux_arm64.go agrees.
  static std::optional<SignalContext> sigreturn_context(const Memory& memory, uint64_t sp) {
    constexpr uint64_t kRegs = 128 + 176 + 8;
    auto fp = memory.read_u64(sp + kRegs + 29 * 8), lr = memory.read_u64(sp + kRegs + 30 * 8),
         isp = memory.read_u64(sp + kRegs + 31 * 8), pc = memory.read_u64(sp + kRegs + 32 * 8);
    if (!fp || !lr || !isp || !pc || *pc == 0 || *isp == 0) return std::nullopt;
    return SignalContext{*pc, *isp, *fp, *lr};
  }
};

}  // namespace goperf::unwind

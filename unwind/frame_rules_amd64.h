// amd64 frames (src/runtime/traceback.go unwinder.next, stack.go "x86: the return address is just above
// the frame"): CALL pushes the return address, a Go function with a frame pushes the caller's BP right
// below it (cmd/internal/obj/x86 obj6.go preprocess, "PUSHQ BP; MOVQ SP, BP"). See frame_rules.h.
#pragma once

#include <optional>

#include "unwind/frame_rules.h"
#include "unwind/memory.h"

namespace goperf::unwind {

struct Amd64FrameRules {
  static constexpr uint64_t kCallBytes = 8;

  static std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& f) {
    auto ret = memory.read_u64(f.cfa);
    if (!ret) return std::nullopt;
    GoCaller c{*ret, f.cfa + kCallBytes, f.fp};
    if (f.delta > 0) {
      if (auto bp = memory.read_u64(f.cfa - 8)) c.fp = *bp;
    }
    return c;
  }

  static uint64_t after_injected_call(const Memory&, uint64_t cfa, uint64_t&) { return cfa; }

  // nanotime1/time.now/vgetrandom1 (sys_linux_amd64.s, time_linux_amd64.s) save BP, set BP = SP, then
  // move SP to g0's stack: past the prologue (delta > 8) with BP not where pcsp says, BP holds the frame.
  static std::optional<uint64_t> vdso_caller_cfa(int32_t delta, uint64_t fp, uint64_t pcsp_cfa) {
    if (delta <= 8 || fp == 0 || (fp & 7) != 0 || fp + 8 == pcsp_cfa) return std::nullopt;
    return fp + 8;
  }

  // Go's own sa_restorer (runtime.sigreturn__sigaction, os_linux.go setsig) is Go code: no trampoline here.
  static bool is_sigreturn_trampoline(std::span<const uint8_t>) { return false; }
  static std::optional<SignalContext> sigreturn_context(const Memory&, uint64_t) { return std::nullopt; }

  static constexpr bool kLeafReturnInLr = false;
  static uint64_t strip_signature(uint64_t return_address) { return return_address; }

  // The vDSO caller's [saved BP, return address] record stays on the goroutine stack and BP chains through it
  // and its callers', so that the kernel's frame-pointer walk at a sample in the vDSO gives the goroutine's
  // frames the copy of g0's stack lacks (vdso_continuation.cpp).
  static constexpr bool kVdsoCallerFrameRecord = true;

  // Before the vDSO function's PUSH RBP the return address is at sp; right after it, at sp + 8.
  static int vdso_leaf_return_slots(uint64_t sp, bool pushed_fp, uint64_t slots[2]) {
    slots[0] = sp;
    if (!pushed_fp) return 1;
    slots[1] = sp + 8;
    return 2;
  }
};

}  // namespace goperf::unwind

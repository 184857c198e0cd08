// FrameRules: how one architecture lays out a Go frame's return address and the caller's frame pointer,
// the rules StackWalker cannot state without knowing the calling convention (src/runtime/traceback.go
// unwinder.next: "x86: the return address is just above the frame"; LR machines: "the caller's LR was
// saved at the bottom of the frame"). One struct per architecture, all static and inline so that the walk
// loop compiles them in (frame_rules_amd64.h, frame_rules_arm64.h); StackWalker::walk picks one per walk.
// A new architecture is a new header with the same members, and one case in StackWalker::walk:
//
//   static constexpr uint64_t kCallBytes;   bytes a call leaves between the caller's sp and the callee's
//                                           frame: the pushed return address (amd64), none (arm64 BL)
//   static std::optional<GoCaller> go_caller(const Memory&, const GoFrameAt&);   the caller of a Go frame
//   static uint64_t after_injected_call(const Memory&, uint64_t cfa, uint64_t& lr);   the frame below an
//                                           injected call (sigpanic, asyncPreempt, debugCallV2)
//   static std::optional<uint64_t> vdso_caller_cfa(int32_t delta, uint64_t fp, uint64_t pcsp_cfa);
//                                           a vDSO caller whose sp moved to g0's stack: its CFA from fp
//   static constexpr bool kVdsoCallerFrameRecord;   whether the kernel's FP walk at a vDSO sample gives the callers
//   static int vdso_leaf_return_slots(uint64_t sp, bool pushed_fp, uint64_t slots[2]);   where a vDSO
//                                           function without a frame yet keeps its return address
//   static constexpr bool kLeafReturnInLr;   such a function's return address is in LR instead (arm64)
//   static uint64_t strip_signature(uint64_t);   a C frame's return address without its pointer-
//                                           authentication code (arm64 PAC), unchanged on amd64
//   static bool is_sigreturn_trampoline(std::span<const uint8_t> code);   the 8 bytes at a pc are the
//                                           kernel's signal-return trampoline (arm64's vDSO; amd64 Go installs
//                                           its own restorer, a Go function: never)
//   static std::optional<SignalContext> sigreturn_context(const Memory&, uint64_t sp);   at that
//                                           trampoline, the interrupted registers in the rt_sigframe at sp
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace goperf::unwind {

// A Go frame at sp whose pcsp delta (funcspdelta) is `delta`, and the registers the walk carries.
struct GoFrameAt {
  uint64_t sp = 0;
  uint64_t cfa = 0;        // sp + delta, or where vdso_caller_cfa puts the frame
  int32_t delta = 0;
  bool innermost = false;  // the frame's pc came from registers: LR may still hold its return address
  uint64_t lr = 0;         // the walk's LR (arm64), 0 on amd64
  uint64_t fp = 0;         // the walk's frame pointer register
};

// Its caller: where the caller resumes, the caller's sp, and the frame pointer the caller runs with.
struct GoCaller {
  uint64_t pc = 0;
  uint64_t sp = 0;
  uint64_t fp = 0;
};

// The registers a signal interrupted, as the kernel saved them in its signal frame.
struct SignalContext {
  uint64_t pc = 0;
  uint64_t sp = 0;
  uint64_t fp = 0;
  uint64_t lr = 0;
};

}  // namespace goperf::unwind

// arm64 frames (src/runtime/traceback.go unwinder.next for LR machines): BL puts the return address in
// LR; a function with a frame saves LR at the bottom of its frame (0(RSP)), a frameless leaf keeps it in
// LR. An injected call (sigpanic, asyncPreempt) sits on an extra 16-byte aligned slot. See frame_rules.h.
#pragma once

#include <optional>

#include "unwind/frame_rules.h"
#include "unwind/memory.h"

namespace goperf::unwind {

struct Arm64FrameRules {
  static constexpr uint64_t kCallBytes = 0;

  static std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& f) {
    if (f.innermost && f.delta == 0) return GoCaller{f.lr, f.cfa, f.fp};
    auto ret = memory.read_u64(f.sp);
    if (!ret) return std::nullopt;
    return GoCaller{*ret, f.cfa, f.fp};
  }

  // The interrupted function's LR may be the extra word when its own frame is empty (unwinder.next).
  static uint64_t after_injected_call(const Memory& memory, uint64_t cfa, uint64_t& lr) {
    if (auto saved = memory.read_u64(cfa)) lr = *saved;
    return cfa + 16;
  }

  // The vDSO callers keep no frame pointer frame on g0's stack here: nothing to follow.
  static std::optional<uint64_t> vdso_caller_cfa(int32_t, uint64_t, uint64_t) { return std::nullopt; }
  static int vdso_leaf_return_slots(uint64_t, bool, uint64_t[2]) { return 0; }
  static constexpr bool kVdsoCallerFrameRecord = false;
};

}  // namespace goperf::unwind

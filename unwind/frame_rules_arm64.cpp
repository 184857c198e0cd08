// arm64 frames (src/runtime/traceback.go unwinder.next for LR machines): BL puts the return address in
// LR; a function with a frame saves LR at the bottom of its frame (0(RSP)), a frameless leaf keeps it in
// LR. An injected call (sigpanic, asyncPreempt) sits on an extra 16-byte aligned slot.
#include "unwind/frame_rules.h"
#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

class Arm64FrameRules final : public FrameRules {
 public:
  uint64_t call_bytes() const override { return 0; }

  std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& f) const override {
    if (f.innermost && f.delta == 0) return GoCaller{f.lr, f.cfa, f.fp};
    auto ret = memory.read_u64(f.sp);
    if (!ret) return std::nullopt;
    return GoCaller{*ret, f.cfa, f.fp};
  }

  // The interrupted function's LR may be the extra word when its own frame is empty (unwinder.next).
  uint64_t after_injected_call(const Memory& memory, uint64_t cfa, uint64_t& lr) const override {
    if (auto saved = memory.read_u64(cfa)) lr = *saved;
    return cfa + 16;
  }

  std::optional<uint64_t> vdso_caller_cfa(int32_t, uint64_t, uint64_t) const override { return std::nullopt; }
  int vdso_leaf_return_slots(uint64_t, bool, uint64_t[2]) const override { return 0; }
};

}  // namespace

const FrameRules& arm64_frame_rules() {
  static const Arm64FrameRules rules;
  return rules;
}

}  // namespace goperf::unwind

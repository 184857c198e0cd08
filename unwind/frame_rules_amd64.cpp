// amd64 frames (src/runtime/traceback.go unwinder.next, stack.go "x86: the return address is just above
// the frame"): CALL pushes the return address, a Go function with a frame pushes the caller's BP right
// below it (cmd/internal/obj/x86 obj6.go preprocess, "PUSHQ BP; MOVQ SP, BP").
#include "unwind/frame_rules.h"
#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kPtr = 8;

class Amd64FrameRules final : public FrameRules {
 public:
  uint64_t call_bytes() const override { return kPtr; }

  std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& f) const override {
    auto ret = memory.read_u64(f.cfa);
    if (!ret) return std::nullopt;
    GoCaller c{*ret, f.cfa + kPtr, f.fp};
    if (f.delta > 0) {
      if (auto bp = memory.read_u64(f.cfa - kPtr)) c.fp = *bp;
    }
    return c;
  }

  uint64_t after_injected_call(const Memory&, uint64_t cfa, uint64_t&) const override { return cfa; }

  // nanotime1/time.now/vgetrandom1 (sys_linux_amd64.s, time_linux_amd64.s) save BP, set BP = SP, then
  // move SP to g0's stack: past the prologue (delta > 8) with BP not where pcsp says, BP holds the frame.
  std::optional<uint64_t> vdso_caller_cfa(int32_t delta, uint64_t fp, uint64_t pcsp_cfa) const override {
    if (delta <= 8 || fp == 0 || (fp & 7) != 0 || fp + kPtr == pcsp_cfa) return std::nullopt;
    return fp + kPtr;
  }

  // Before the vDSO function's PUSH RBP the return address is at sp; right after it, at sp + 8.
  int vdso_leaf_return_slots(uint64_t sp, bool pushed_fp, uint64_t slots[2]) const override {
    slots[0] = sp;
    if (!pushed_fp) return 1;
    slots[1] = sp + kPtr;
    return 2;
  }
};

}  // namespace

const FrameRules& amd64_frame_rules() {
  static const Amd64FrameRules rules;
  return rules;
}

}  // namespace goperf::unwind

// After the vDSO: a clock read sampled by the perf backend. The copy is of g0's stack, where the vDSO runs,
// and the walk stops at the vDSO caller (FuncKind::kVdsoCall: runtime.nanotime1, time.now), whose frame is
// on the goroutine's stack, outside the copy. Its callers come from the kernel's frame-pointer walk of user
// space, taken at the sample (RawSample::user_chain, PERF_SAMPLE_CALLCHAIN): the vDSO caller's frame record
// and every Go caller's stay on the goroutine's stack (sys_linux_amd64.s nanotime1 moves SP, not BP;
// sys_linux_arm64.s walltime moves RSP, not R29), so the frame pointer chains through them. Nothing is read from the
// process later: a goroutine that has run on since the sample leaves stale frames below its new sp, which a
// later read can chain into another stack. The eBPF backend copies the goroutine's part at the sample
// (RawSample::stack2) and never gets here.
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/frame_rules_amd64.h"
#include "unwind/frame_rules_arm64.h"
#include "unwind/kernel_chain.h"
#include "unwind/sample_continuations.h"

namespace goperf::unwind {

bool vdso_callers_from_kernel_walk(Arch arch) {
  switch (arch) {
    case Arch::kArm64: return Arm64FrameRules::kVdsoCallerFrameRecord;
    case Arch::kAmd64: break;
  }
  return Amd64FrameRules::kVdsoCallerFrameRecord;
}

WalkResult continue_after_vdso(const SampleTarget& target, const RawSample& s, std::span<PhysicalFrame> out,
                               WalkResult result) {
  const size_t n = result.count;
  const Arch arch = s.user_regs.arch;
  if (result.reason != StopReason::kUnreadable || n == 0 || s.user_chain.size() < 2 ||
      !vdso_callers_from_kernel_walk(arch)) {
    return result;
  }
  const PhysicalFrame& last = out[n - 1];
  auto ref = target.space->find(last.pc);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  auto caller = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (!caller || caller->kind != symbolize::FuncKind::kVdsoCall) return result;
  // The chain starts at the sampled pc and may hold the vDSO's own frames (and its return into the vDSO
  // caller) before the vDSO caller's return address: the first entry after a direct call to the caller.
  auto got = callers_in_chain(*target.space, s.user_chain, arch, ref->module, caller->entry, out.subspan(n));
  if (got && got->root) return {n + got->count, StopReason::kTopFrame};
  return result;  // the chain ended (or was cut at perf_event_max_stack) short of a root
}

}  // namespace goperf::unwind

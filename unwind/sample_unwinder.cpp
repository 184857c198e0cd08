// SampleUnwinder::walk: the walk over the sampled copy, then the continuations (sample_continuations.h).
#include "unwind/sample_unwinder.h"

#include <algorithm>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/sample_continuations.h"
#include "unwind/stack_window_memory.h"

namespace goperf::unwind {
namespace {

bool at_switch(const WalkResult& r) { return r.reason == StopReason::kStackSwitch || r.reason == StopReason::kSpWrite; }

// A walk on g0 that stops at runtime.morestack while the M had no goroutine at the sample (the scheduler
// after a preemption through morestack: newstack -> gopreempt_m -> schedule, curg dropped) is whole: the
// runtime's traceback ends there too (traceback.go jumps from g0 to curg only when curg != nil). Only
// where the sampler read m.curg at the sample (eBPF).
bool ends_at_morestack_without_goroutine(const SampleTarget& target, const RawSample& s,
                                         std::span<const PhysicalFrame> out, const WalkResult& result) {
  if (!s.on_g0_without_goroutine || result.reason != StopReason::kSpWrite || result.count == 0) return false;
  auto f = go_function_at(*target.space, out[result.count - 1]);
  return f && f->kind == symbolize::FuncKind::kMorestack;
}

uint64_t top_of(std::span<const PhysicalFrame> frames, uint64_t base) {
  uint64_t top = base;
  for (const auto& f : frames) top = std::max(top, std::max(f.sp, f.fp));
  return top;
}

// At asmcgocall (or past a C frame it could not unwind) the walk goes on in the goroutine from its g.sched
// as the sampler read it, which gosave_systemstack_switch (asm_amd64.s, asm_arm64.s) set to the fake pc
// systemstack_switch+8; the runtime's profiler starts a cgo call's goroutine frames at cgocall instead
// (proc.go sigprof: curg.syscallpc/syscallsp), so that fake frame is left out there. Returns the new count.
size_t without_cgo_switch_frame(const AddressSpace& space, std::span<PhysicalFrame> out, size_t n) {
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!out[i + 1].after_switch) continue;
    auto below = go_function_at(space, out[i]), above = go_function_at(space, out[i + 1]);
    const bool after_cgo = out[i + 1].after_gap || (below && below->kind == symbolize::FuncKind::kAsmcgocall);
    if (!after_cgo || !above || above->kind != symbolize::FuncKind::kSystemstackSwitch) return n;
    const bool gap = out[i + 1].after_gap;
    std::copy(out.begin() + static_cast<std::ptrdiff_t>(i + 2), out.begin() + static_cast<std::ptrdiff_t>(n),
              out.begin() + static_cast<std::ptrdiff_t>(i + 1));
    out[i + 1].after_switch = true;
    out[i + 1].after_gap = gap;
    return n - 1;
  }
  return n;
}

}  // namespace

SampleUnwinder::SampleUnwinder() : state_(std::make_unique<State>()) {}
SampleUnwinder::~SampleUnwinder() = default;

SampleWalk SampleUnwinder::walk(const RawSample& s, const SampleTarget& target, std::span<PhysicalFrame> out,
                                uint64_t live_tail_bytes) {
  SampleWalk w;
  StackWindowMemory memory(target.space, nullptr);
  memory.set_window(s.stack_base, s.stack);
  if (!s.stack2.empty()) memory.set_second_window(s.stack2_base, s.stack2);
  memory.set_live_tail(target.live, live_tail_bytes);
  memory.set_live_code(target.live);
  StackWalker walker(memory, *target.space, target.pc_cache);
  WalkOptions wo;
  wo.innermost_exact = true;
  wo.stack_lo = s.stack_base;
  if (s.goroutine) {
    // The goroutine g0 serves, as the sampler read it at the sample: exact, where continue_on_curg's live
    // read is late. Only where the runtime's profiler jumps too.
    wo.switch_to = &*s.goroutine;
    wo.switch_stack_lo = s.stack2_base;
    wo.switch_only_where_runtime_does = true;
    wo.switch_after_unwalkable_c = true;
  }
  WalkResult result = walker.walk(s.user_regs, wo, out);
  if (s.goroutine) result.count = without_cgo_switch_frame(*target.space, out, result.count);
  auto walked = out.first(result.count);
  if (std::any_of(walked.begin(), walked.end(), [](const PhysicalFrame& f) { return f.after_switch; })) ++w.switched;
  w.window = result;
  if (result.complete()) w.window_used = top_of(walked, s.stack_base) - s.stack_base;
  if (memory.tail_used()) ++w.live_tail;
  if (target.live != nullptr) {
    if (at_switch(result) && result.count > 0) result = continue_after_cgo(target, memory, s, s.user_regs.arch, out, result);
    if (at_switch(result) && target.layout != nullptr) {
      if (state_->lister_layout != target.layout) {
        state_->lister.emplace(*target.layout, RuntimeGlobals{}, 0);  // g and m reads need no globals
        state_->lister_layout = target.layout;
      }
      WalkResult before = result;
      result = continue_on_curg(target, *state_->lister, s, out, result);
      if (result.count != before.count || result.reason != before.reason) ++w.switched;
    }
  }
  if (result.reason == StopReason::kUnreadable) result = continue_after_vdso(target, s, out, result);
  if (ends_at_morestack_without_goroutine(target, s, out, result)) result.reason = StopReason::kTopFrame;
  w.result = result;
  return w;
}

std::optional<symbolize::FuncInfo> go_function_at(const AddressSpace& space, const PhysicalFrame& frame) {
  auto ref = space.find(frame.exact_pc ? frame.pc : frame.pc - 1);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  return tab ? tab->find_func(ref->link_pc) : std::nullopt;
}

}  // namespace goperf::unwind

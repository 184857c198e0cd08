// From the system stack to m.curg: a sample on g0 under systemstack or morestack stops at the switch. The
// goroutine it serves is m.curg, reached from g0 (R14 in Go code), its state in curg.sched (saved by
// gosave_systemstack_switch, asm_amd64.s), as the runtime's own traceback does (traceback.go
// unwinder.resolveInternal, unwindJumpStack: frame.pc = gp.m.curg.sched.pc). Read live, after the fact:
// the goroutine stays parked in the switch while the system-stack function runs, but the M may have moved
// on. So it is used only when g0.m.g0 == g0, the walk on the goroutine reaches its top frame, and the
// goroutine's first frame is the one that called the system-stack function (switch_consistent): a stale
// read can only truncate, never invent, a stack.
#include <algorithm>
#include <array>
#include <string>

#include "symbolize/frame.h"
#include "symbolize/func_name.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"
#include "unwind/sample_continuations.h"
#include "unwind/stack_window_memory.h"

namespace goperf::unwind {
namespace {

constexpr size_t kMaxFrames = 512;

// Function names at a frame, innermost inlined first.
std::vector<std::string> names_at(const AddressSpace& space, const PhysicalFrame& f) {
  std::vector<std::string> names;
  auto ref = space.find(f.pc);
  if (!ref || ref->module == nullptr) return names;
  std::vector<symbolize::Frame> frames;
  ref->module->symbolize(ref->link_pc, !f.exact_pc, frames);
  for (const auto& fr : frames)
    if (fr.known()) names.emplace_back(fr.function);
  return names;
}

// The function run on the system stack is a closure of its caller ("runtime.(*mheap).alloc.func1" called
// from runtime.(*mheap).alloc): the goroutine's frame above the switch must be that caller.
bool switch_consistent(const AddressSpace& space, std::span<const PhysicalFrame> walked, size_t g0_count) {
  if (g0_count < 2 || walked.size() <= g0_count) return false;
  auto fn = names_at(space, walked[g0_count - 2]);  // the function systemstack called
  if (fn.empty()) return false;
  std::string_view parent = symbolize::closure_parent(fn.back());
  if (parent.empty()) return false;
  auto caller = names_at(space, walked[g0_count]);  // the goroutine's first frame after the switch
  return std::find(caller.begin(), caller.end(), parent) != caller.end();
}

// m.curg's saved state and stack bounds, when g0 is the g0 of its m and curg is another g.
std::optional<GoroutineInfo> curg_of(const GoroutineLister& lister, const Memory& live, uint64_t g0) {
  auto g = lister.read_g(live, g0);
  if (!g || g->m == 0) return std::nullopt;
  auto m = lister.read_m(live, g->m);
  if (!m || m->g0 != g0 || m->curg == 0 || m->curg == g0) return std::nullopt;
  auto curg = lister.read_g(live, m->curg);
  if (!curg || curg->sched_sp < curg->stack_lo || curg->sched_sp >= curg->stack_hi)
    return std::nullopt;
  return *curg;
}

}  // namespace

WalkResult continue_on_curg(const SampleTarget& target, const GoroutineLister& lister, const RawSample& s,
                            std::span<PhysicalFrame> out, WalkResult result) {
  if (s.user_regs.g == 0 || lister.layout().g.sched_sp == 0) return result;
  auto curg = curg_of(lister, *target.live, s.user_regs.g);
  if (!curg) return result;
  RegisterSet to;
  to.arch = s.user_regs.arch;
  to.pc = curg->sched_pc;
  to.sp = curg->sched_sp;
  to.fp = curg->sched_bp;
  StackWindowMemory memory(target.space, target.live);
  memory.set_window(s.stack_base, s.stack);
  StackWalker walker(memory, *target.space, target.pc_cache);
  WalkOptions wo;
  wo.innermost_exact = true;
  wo.stack_lo = s.stack_base;
  wo.switch_to = &to;
  wo.switch_stack_lo = curg->stack_lo;
  wo.switch_stack_hi = curg->stack_hi;
  std::array<PhysicalFrame, kMaxFrames> again;
  auto r = walker.walk(s.user_regs, wo, std::span<PhysicalFrame>(again).first(std::min(kMaxFrames, out.size())));
  if (!r.complete() || r.count <= result.count || !switch_consistent(*target.space, again, result.count)) return result;
  std::copy_n(again.begin(), r.count, out.begin());
  return r;
}

}  // namespace goperf::unwind

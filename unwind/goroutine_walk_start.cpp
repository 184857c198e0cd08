// choose_walk_start / parked_walk_start: where a goroutine's walk starts (traceback.go initAt,
// traceback1, tracebackothers).
#include "unwind/goroutine_walk_start.h"

#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

// The saved state the walk switches to when it leaves the system stack (m.curg's): g.syscall{pc,sp} for a
// goroutine in a syscall or cgo call (entersyscall/asmcgocall saved them), else g.sched.
RegisterSet goroutine_saved_state(const GoroutineInfo& g, Arch arch, bool in_syscall) {
  RegisterSet t;
  t.arch = arch;
  t.pc = in_syscall ? g.syscallpc : g.sched_pc;
  t.sp = in_syscall ? g.syscallsp : g.sched_sp;
  t.fp = in_syscall ? 0 : g.sched_bp;
  t.lr = in_syscall ? 0 : g.sched_lr;
  return t;
}

// A thread on g0 or gsignal (systemstack, mcall, a cgo call, a signal handler): walk that g's stack, within
// its bounds when sp is inside them, then switch to the goroutine's (traceback.go, unwindJumpStack).
void start_on_system_stack(const GoroutineInfo& g, const GoroutineThread& thread, bool in_syscall,
                           const Memory& memory, const GoRuntimeLayout& layout, GoroutineWalkStart& out) {
  out.switch_target = goroutine_saved_state(g, out.start.arch, in_syscall);
  out.options.switch_to = &out.switch_target;
  out.options.switch_stack_lo = g.stack_lo;
  out.options.switch_stack_hi = g.stack_hi;
  auto bounds = read_g_stack(memory, &layout.g, thread.tg.g);
  bool plausible = bounds && bounds->lo < bounds->hi && out.start.sp >= bounds->lo && out.start.sp < bounds->hi;
  out.options.stack_lo = plausible ? bounds->lo : 0;
  out.options.stack_hi = plausible ? bounds->hi : 0;
}

}  // namespace

RegisterSet parked_walk_start(const GoroutineInfo& g, const MInfo* m, const Memory& memory, Arch arch) {
  RegisterSet start;
  start.arch = arch;
  start.pc = g.sched_pc;
  start.sp = g.sched_sp;
  start.fp = g.sched_bp;
  start.lr = g.sched_lr;
  if (g.syscallsp != 0) {
    start.pc = g.syscallpc;
    start.sp = g.syscallsp;
    start.fp = 0;
    start.lr = 0;
  }
  if (m && m->vdso_sp != 0) {
    start.pc = m->vdso_pc;
    start.sp = m->vdso_sp;
  }
  if (start.pc == 0 && start.sp != 0) {
    if (auto r = memory.read_u64(start.sp)) {
      start.pc = *r;
      start.sp += 8;
    }
  }
  return start;
}

void choose_walk_start(const GoroutineInfo& g, const MInfo* m, const GoroutineThread* thread, const Memory& memory,
                       const GoRuntimeLayout& layout, GoroutineWalkStart& out) {
  out.options = WalkOptions{};
  out.options.stack_lo = g.stack_lo;
  out.options.stack_hi = g.stack_hi;
  out.walkable = true;
  out.on_thread = false;
  const uint32_t st = g.base_status();
  const bool in_syscall = st == kGsyscall && g.syscallsp != 0;
  // A goroutine in a syscall whose thread runs it on its own stack is walked from the syscall state, as
  // the runtime does; on any other thread its registers are the truth (the runtime cannot print these).
  if (thread != nullptr && !(in_syscall && thread->tg.kind == ThreadG::Kind::kUser)) {
    out.on_thread = true;
    out.start = *thread->regs;
    out.options.innermost_exact = true;
    if (thread->tg.kind != ThreadG::Kind::kUser) {
      start_on_system_stack(g, *thread, in_syscall, memory, layout, out);
    } else if (m && m->vdso_sp != 0) {
      // In a vDSO call on its own thread: the walk may continue from the m's saved vDSO state.
      out.switch_target = RegisterSet{};
      out.switch_target.arch = out.arch;
      out.switch_target.pc = m->vdso_pc;
      out.switch_target.sp = m->vdso_sp;
      out.options.switch_to = &out.switch_target;
      out.options.switch_stack_lo = g.stack_lo;
      out.options.switch_stack_hi = g.stack_hi;
    }
    return;
  }
  if (st == kGrunning) {
    out.walkable = false;  // running on a thread we could not identify: sched is stale
    return;
  }
  out.options.innermost_exact = false;
  out.start = parked_walk_start(g, m, memory, out.arch);
}

}  // namespace goperf::unwind

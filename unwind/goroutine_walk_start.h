// Where the walk of a goroutine starts, and on which stacks: the second entry point of unwind/ (the first is
// unwind_sample, sample_unwinder.h). For a goroutine off-thread, its saved context chosen as the runtime's
// own traceback does for another goroutine (src/runtime/traceback.go unwinder.initAt, traceback1): the
// syscall state first, then a VDSO call in progress on its m, then g.sched. For a goroutine on a thread,
// the thread's registers, and on g0/gsignal the switch back to the goroutine's saved state.
// Shared by snapshot/core dumps and the goroutine sampler of `record -e goroutines`.
#pragma once

#include "unwind/goroutine_lister.h"
#include "unwind/register_set.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {

class Memory;

// The registers to start from (pc is a return address: walk with innermost_exact = false). `m` is
// g.m's MInfo when known (its vdso_pc/vdso_sp), else nullptr. A saved pc of 0 with an sp (a g
// switched out by gogo's caller) takes the return address at sp, as the runtime does.
RegisterSet parked_walk_start(const GoroutineInfo& g, const MInfo* m, const Memory& memory, Arch arch = Arch::kAmd64);

// A thread that runs the goroutine: its registers, and which g current_g found on it.
struct GoroutineThread {
  const RegisterSet* regs = nullptr;
  ThreadG tg;
};

// How to walk one goroutine: pass start and options to StackWalker::walk. Not copyable: options.switch_to
// points at switch_target.
struct GoroutineWalkStart {
  Arch arch = Arch::kAmd64;  // the target's, set by the caller: saved contexts are walked by its rules
  bool walkable = true;    // false: _Grunning on a thread that was not identified (g.sched is stale)
  bool on_thread = false;  // start is the thread's registers (the thread's tid goes with the goroutine)
  RegisterSet start;
  RegisterSet switch_target;
  WalkOptions options;

  GoroutineWalkStart() = default;
  GoroutineWalkStart(const GoroutineWalkStart&) = delete;
  GoroutineWalkStart& operator=(const GoroutineWalkStart&) = delete;
};

// Fills `out` for goroutine g. `m`: g.m's MInfo, or nullptr. `thread`: the thread current_g found running
// g (its curg), or nullptr. `layout` reads the stack bounds of the g0/gsignal a thread is on.
void choose_walk_start(const GoroutineInfo& g, const MInfo* m, const GoroutineThread* thread, const Memory& memory,
                       const GoRuntimeLayout& layout, GoroutineWalkStart& out);

}  // namespace goperf::unwind

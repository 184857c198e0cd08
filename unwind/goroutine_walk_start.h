// Where the walk of a goroutine that is not on a thread starts: its saved context, chosen as the
// runtime's own traceback does for another goroutine (src/runtime/traceback.go unwinder.initAt,
// traceback1): the syscall state first, then a VDSO call in progress on its m, then g.sched.
// Shared by snapshot/core dumps and the goroutine sampler of `record -e goroutines`.
#pragma once

#include "unwind/register_set.h"

namespace goperf::unwind {

class Memory;
struct GoroutineInfo;
struct MInfo;

// The registers to start from (pc is a return address: walk with innermost_exact = false). `m` is
// g.m's MInfo when known (its vdso_pc/vdso_sp), else nullptr. A saved pc of 0 with an sp (a g
// switched out by gogo's caller) takes the return address at sp, as the runtime does.
RegisterSet parked_walk_start(const GoroutineInfo& g, const MInfo* m, const Memory& memory, Arch arch = Arch::kAmd64);

}  // namespace goperf::unwind

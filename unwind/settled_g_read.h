// read_settled_g: a g read whole until two reads in a row agree (at most 4), kept only then. A single read of a live
// g can mix two of its states: the runtime rewrites a g field by field (proc.go gdestroy sets an exiting
// goroutine's status to _Gdead, then clears its labels; newproc1 fills a reused g and makes it runnable
// before it gets its goid), and process_vm_readv copies while it does.
#pragma once

#include <cstdint>
#include <optional>

#include "unwind/goroutine_lister.h"

namespace goperf::unwind {

struct SettledG {
  std::optional<GoroutineInfo> g;  // as read twice alike in a row (up to 4 reads), or dead; nullopt otherwise
  bool unsettled = false;          // read, but never twice alike: nothing to sample now
};

// Two reads agree when their heads do (GHead::same_as: goid, status without the GC's scan bit, wait reason,
// m, sched.pc/sp, syscallpc/sp, stack.lo and the labels: those a goroutine's sample is made of).
SettledG read_settled_g(const GoroutineLister& lister, const Memory& memory, uint64_t g_addr);

}  // namespace goperf::unwind

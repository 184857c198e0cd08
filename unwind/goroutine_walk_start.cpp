// parked_walk_start: the saved context a goroutine off-thread is walked from (traceback.go initAt).
#include "unwind/goroutine_walk_start.h"

#include "unwind/goroutine_lister.h"
#include "unwind/memory.h"

namespace goperf::unwind {

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

}  // namespace goperf::unwind

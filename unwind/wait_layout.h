// WaitLayout: the offsets of the runtime and sync structures a parked goroutine waits on (g.waiting and
// g.timer, sudog, hchan, timer, pollDesc, notifyList; sync.Mutex, RWMutex, WaitGroup, Cond), per Go version.
#pragma once

#include <cstdint>

namespace goperf::unwind {

// Offsets measured from the DWARF of each toolchain (tests/fixtures/layouts, scripts/measure_layouts.sh).
struct WaitLayout {
  static constexpr uint32_t kNone = UINT32_MAX;  // a field this version does not have
  int go_minor = 0;
  uint32_t g_waiting = 0, g_timer = 0, g_sleep_when = kNone;
  // sudog.elem and sudog.c: the address itself (1.26+: maybeTraceablePtr.vu, the "source of truth"; vp may
  // be nil while the goroutine-leak detector hides it, runtime2.go).
  uint32_t sudog_g = 0, sudog_next = 0, sudog_elem = 0, sudog_waitlink = 0, sudog_c = 0;
  uint32_t hchan_qcount = 0, hchan_dataqsiz = 0, hchan_closed = 0, hchan_timer = kNone, hchan_recvq = 0,
           hchan_sendq = 0;
  uint32_t timer_when = 0;
  // Where time.Sleep's deadline is before the goroutine parks: g.sleepWhen (1.23+), else timer.nextwhen
  // (1.19 runtime/time.go timeSleep; resetForSleep moves it into the timer after the park).
  uint32_t timer_nextwhen = kNone;
  uint32_t poll_fd = 0, poll_rg = 0, poll_wg = 0, poll_self = 0;
  uint32_t notify_wait = 0, notify_notify = 0, notify_head = 0;
  uint32_t mutex_sema = 0, rwmutex_writer_sem = 0, rwmutex_reader_sem = 0, rwmutex_reader_count = 0,
           rwmutex_reader_wait = 0, waitgroup_state = 0, waitgroup_sema = 0, cond_notify = 0;
  // 1.26+: semacquire1 and notifyListWait put their sudog on g.waiting with elem = the semaphore or the
  // notifyList (runtime/sema.go, for the goroutine-leak detector); before, only the goroutine's stack has it.
  bool sema_on_waiting = false;
};

// nullptr for a Go version whose layouts were not measured (the caller says so; it does not guess).
const WaitLayout* wait_layout_for(int go_minor);

}  // namespace goperf::unwind

// RealtimeTicks: the thread that takes goroutine-state ticks runs at a real-time priority while it ticks.
//
// Why: a tick reads the goroutines when goperf's thread gets a CPU, not when its timer fires. Woken as an
// ordinary (SCHED_OTHER) task on a machine whose CPUs are busy, it waits until the scheduler gives it one,
// which is most often when a thread of the target stops running: the ticks then fall where goroutines
// have just parked, and running goroutines are undercounted (gstates' workers, busy 16.6% of the time by
// their own clock: 14.6% running in goperf's profile on 2 busy CPUs; 16.3-17.0% with SCHED_FIFO). A
// SCHED_FIFO thread preempts ordinary ones as it wakes, so each tick reads at the time it was due.
#pragma once

#include <string>

namespace goperf::profiler {

class RealtimeTicks {
 public:
  // Raises the calling thread to SCHED_FIFO priority 1 (reset on fork); `note()` says why not if it could not
  // (no CAP_SYS_NICE and no RLIMIT_RTPRIO).
  RealtimeTicks();
  // Back to the thread's previous policy: writing the profile is ordinary work.
  ~RealtimeTicks();
  RealtimeTicks(const RealtimeTicks&) = delete;
  RealtimeTicks& operator=(const RealtimeTicks&) = delete;

  const std::string& note() const { return note_; }

 private:
  bool raised_ = false;
  int old_policy_ = 0;
  int old_priority_ = 0;
  std::string note_;
};

}  // namespace goperf::profiler

// RealtimeTicks (realtime_ticks.h): SCHED_FIFO for the ticking thread, and back.
#include "profiler/record/realtime_ticks.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

namespace goperf::profiler {

RealtimeTicks::RealtimeTicks() {
  sched_param old{};
  if (pthread_getschedparam(pthread_self(), &old_policy_, &old) != 0) return;
  old_priority_ = old.sched_priority;
  // Priority 1, the lowest real-time one: above every ordinary task, below any real-time thread the machine
  // already runs. SCHED_RESET_ON_FORK: nothing goperf starts inherits it.
  sched_param rt{};
  rt.sched_priority = 1;
  if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) == 0) {
    raised_ = true;
    return;
  }
  const int err = errno;
  note_ = std::string("cannot run the sampling thread at real-time priority (") + std::strerror(err) +
          "; needs CAP_SYS_NICE or RLIMIT_RTPRIO): on busy CPUs its ticks come late, where goroutines have just "
          "parked, and running goroutines are undercounted";
}

RealtimeTicks::~RealtimeTicks() {
  if (!raised_) return;
  sched_param old{};
  old.sched_priority = old_priority_;
  sched_setscheduler(0, old_policy_, &old);
}

}  // namespace goperf::profiler

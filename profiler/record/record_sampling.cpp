// The choice between the scheduler tick and cpu-clock for goperf record, and what the user is told.
#include "profiler/record/record_sampling.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace goperf::profiler {
namespace {

// "every tick", "every 2nd tick", "every 10th tick".
std::string every_nth_tick(uint32_t n) {
  if (n == 1) return "every tick";
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) suffix = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  return "every " + std::to_string(n) + suffix + " tick";
}

std::string describe(const unwind::SamplingPlan& plan, const unwind::TickSource& tick) {
  char text[256];
  if (plan.clock_hz == 0) {
    std::snprintf(text, sizeof(text),
                  "sampling CPU time at the scheduler tick (%u Hz): %s a thread runs, %.0f samples/s", tick.hz(),
                  every_nth_tick(plan.tick_every).c_str(), plan.effective_hz());
  } else {
    std::snprintf(text, sizeof(text),
                  "sampling CPU time at every scheduler tick (%u Hz) and with cpu-clock at %llu Hz", tick.hz(),
                  static_cast<unsigned long long>(plan.clock_hz));
  }
  return text;
}

// Both backends sample through perf events, which the kernel refuses above this rate: say so before
// either one is tried, in the perf sampler's words (profiler/record/perf_sampler.cpp).
Status check_rate(uint64_t hz) {
  std::ifstream in("/proc/sys/kernel/perf_event_max_sample_rate");
  long max_rate = -1;
  if (in) in >> max_rate;
  if (max_rate > 0 && hz > static_cast<uint64_t>(max_rate)) {
    return make_error(ErrorCode::kInvalidArgument, "sampling rate " + std::to_string(hz) +
                                                       " Hz refused: above kernel.perf_event_max_sample_rate=" +
                                                       std::to_string(max_rate));
  }
  return {};
}

}  // namespace

uint64_t SamplingChoice::period(uint64_t hz) const {
  if (!plan.empty()) return plan.weight_ns();
  return event.time_based ? 1000000000ULL / hz : 1;
}

Result<SamplingChoice> choose_sampling(std::string_view event_name, uint64_t hz) {
  if (auto st = check_rate(hz); !st) return std::move(st).error();
  SamplingChoice c;
  if (event_name.empty()) {
    c.event = default_event(&c.note);
    return c;
  }
  auto resolved = resolve_event(event_name);
  if (!resolved) return std::move(resolved).error();
  if (auto st = probe_event(*resolved); !st) return std::move(st).error();
  c.event = *resolved;
  if (!c.event.tick) return c;
  auto tick = unwind::find_tick_source();
  if (!tick) return make_error(tick.error().code(), "-e tick: " + tick.error().message());
  c.tick = *tick;
  c.plan = unwind::plan_sampling(hz, &*c.tick);
  c.note = describe(c.plan, *c.tick);
  return c;
}

std::string high_rate_warning(uint64_t hz) {
  if (hz <= 1000) return "";
  std::ifstream in("/proc/sys/kernel/perf_event_max_sample_rate");
  long max_rate = -1;
  if (in) in >> max_rate;
  std::string text = "-F " + std::to_string(hz) + " is above 1 kHz: each sample interrupts the program and copies "
                     "its stack, so the cost grows with the rate while 99-999 Hz already give a precise profile";
  if (max_rate > 0) {
    text += " (kernel.perf_event_max_sample_rate=" + std::to_string(max_rate) +
            " here; the kernel lowers it when samples take too long)";
  }
  return text;
}

Result<int> tick_tracepoint_for_perf(const SamplingChoice& choice) {
  if (!choice.tick) return -1;
  auto id = unwind::tracepoint_id("timer", "hrtimer_expire_entry");
  if (!id) return make_error(id.error().code(), "-e tick: " + id.error().message());
  // A tracepoint event needs kernel samples: try one on this process before attaching to the target.
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = static_cast<uint64_t>(*id);
  if (int err = try_open_on_self(attr); err != 0) {
    if (err == EACCES || err == EPERM) {
      return make_error(ErrorCode::kPermission,
                        "-e tick: the tick's tracepoint needs kernel.perf_event_paranoid <= 1 or CAP_PERFMON");
    }
    return make_error(ErrorCode::kUnsupported,
                      std::string("-e tick: the tick's tracepoint cannot be opened: ") + std::strerror(err));
  }
  return *id;
}

}  // namespace goperf::profiler

// The choice between the scheduler tick and cpu-clock for goperf record, and what the user is told.
#include "profiler/record_sampling.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace goperf::profiler {
namespace {

std::string describe(const unwind::SamplingPlan& plan, const unwind::TickSource& tick) {
  char text[256];
  if (plan.clock_hz == 0) {
    std::snprintf(text, sizeof(text),
                  "sampling CPU time at the scheduler tick (%u Hz): every %u%s tick a thread runs, %.0f samples/s",
                  tick.hz(), plan.tick_every,
                  plan.tick_every == 1 ? "" : plan.tick_every == 2 ? "nd" : plan.tick_every == 3 ? "rd" : "th",
                  plan.effective_hz());
  } else {
    std::snprintf(text, sizeof(text),
                  "sampling CPU time at every scheduler tick (%u Hz) and with cpu-clock at %llu Hz", tick.hz(),
                  static_cast<unsigned long long>(plan.clock_hz));
  }
  return text;
}

}  // namespace

uint64_t SamplingChoice::period(uint64_t hz) const {
  if (plan.tick_every && !plan.clock_hz) return plan.tick_weight_ns;
  if (!plan.empty()) return plan.clock_weight_ns;
  return event.time_based ? 1000000000ULL / hz : 1;
}

Status SamplingChoice::drop_tick(uint64_t hz, const std::string& why) {
  if (tick_required) return make_error(ErrorCode::kUnsupported, "-e tick: " + why);
  tick.reset();
  plan = unwind::SamplingPlan{};
  event = *resolve_event("cpu-clock");
  note = "sampling cpu-clock at " + std::to_string(hz) + " Hz (the scheduler tick cannot be used: " + why + ")";
  return {};
}

Result<SamplingChoice> choose_sampling(std::string_view event_name, uint64_t hz) {
  SamplingChoice c;
  std::string why_default;
  if (event_name.empty()) {
    c.event = default_event(&why_default);
    if (!c.event.time_based) return c;  // a hardware cycles counter: sampled by the PMU's own interrupt
  } else {
    auto resolved = resolve_event(event_name);
    if (!resolved) return std::move(resolved).error();
    if (auto st = probe_event(*resolved); !st) return std::move(st).error();
    c.event = *resolved;
    if (!c.event.tick) return c;
    c.tick_required = true;
  }
  auto tick = unwind::find_tick_source();
  if (!tick) {
    if (auto st = c.drop_tick(hz, tick.error().message()); !st) return std::move(st).error();
    if (!why_default.empty()) c.note = why_default + "; " + c.note;
    return c;
  }
  if (c.tick_required && hz > tick->hz()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "-e tick samples at most " + std::to_string(tick->hz()) +
                          " Hz here (the kernel's tick rate); leave -e out to add cpu-clock samples above it");
  }
  c.tick = *tick;
  c.plan = unwind::plan_sampling(hz, &*c.tick);
  c.note = describe(c.plan, *c.tick);
  if (!why_default.empty()) {
    // default_event's note ends in "sampling cpu-clock": say what is sampled instead.
    auto colon = why_default.rfind(": sampling");
    c.note = (colon == std::string::npos ? why_default : why_default.substr(0, colon)) + ": " + c.note;
  }
  return c;
}

Result<int> tick_tracepoint_for_perf(SamplingChoice& choice, uint64_t hz) {
  if (!choice.tick) return -1;
  auto id = unwind::tracepoint_id("timer", "hrtimer_expire_entry");
  if (!id) {
    if (auto st = choice.drop_tick(hz, id.error().message()); !st) return std::move(st).error();
    return -1;
  }
  // A tracepoint event needs kernel samples: try one on this process before attaching to the target.
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = static_cast<uint64_t>(*id);
  attr.disabled = 1;
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    int err = errno;
    std::string why = err == EACCES || err == EPERM
                          ? "its tracepoint needs kernel.perf_event_paranoid <= 1 or CAP_PERFMON"
                          : std::string("its tracepoint cannot be opened: ") + std::strerror(err);
    if (auto st = choice.drop_tick(hz, why); !st) return std::move(st).error();
    return -1;
  }
  close(fd);
  return *id;
}

}  // namespace goperf::profiler

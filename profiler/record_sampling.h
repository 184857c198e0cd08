// How `goperf record` samples: the event, and how much of the rate the scheduler tick carries.
//
// Without a hardware cycles counter the default is CPU time. Sampled with cpu-clock, every sample is a
// timer interrupt of its own; sampled at the scheduler tick, which every busy CPU takes anyway, a sample
// costs the thread only its own work (unwind/tick_source.h). So the default takes what it can from the
// tick (every Nth tick up to HZ) and the rest from cpu-clock; `-e tick` asks for the tick alone and
// `-e cpu-clock` for cpu-clock alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "profiler/perf_event_spec.h"
#include "symbolize/result.h"
#include "unwind/tick_source.h"

namespace goperf::profiler {

struct SamplingChoice {
  EventSpec event;                          // what -e named (cpu-clock for the tick's default)
  std::optional<unwind::TickSource> tick;   // set when the plan uses the tick
  unwind::SamplingPlan plan;                // empty: `event` sampled at the requested rate
  std::string note;                         // what was chosen and why, for the user (may be empty)
  bool tick_required = false;               // -e tick: no falling back to cpu-clock

  // The CPU time (or event count) one sample stands for: the profile's period.
  uint64_t period(uint64_t hz) const;
  // Gives up the tick (it cannot be opened by this backend): cpu-clock at the rate asked for.
  Status drop_tick(uint64_t hz, const std::string& why);
};

// Resolves -e (empty: the default) at `hz` samples per second; an error for an unknown event, one this
// host cannot open, or `-e tick` where the tick cannot be used.
Result<SamplingChoice> choose_sampling(std::string_view event_name, uint64_t hz);

// The perf backend samples the tick with an event on the tracepoint timer:hrtimer_expire_entry: its id,
// after checking this process may open it (it needs kernel samples: kernel.perf_event_paranoid <= 1,
// or CAP_PERFMON). Falls back to cpu-clock (a note says why) unless the tick was required.
Result<int> tick_tracepoint_for_perf(SamplingChoice& choice, uint64_t hz);

}  // namespace goperf::profiler

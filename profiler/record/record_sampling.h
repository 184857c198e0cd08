// How `goperf record` samples: the event, and how much of the rate the scheduler tick carries.
//
// cpu-clock (the default without a hardware cycles counter) takes a timer interrupt of its own per
// sample; `-e tick` samples CPU time at the scheduler tick, which every busy CPU takes anyway, so that a
// sample costs the thread only its own work (unwind/tick_source.h): every Nth tick up to HZ, every tick
// plus cpu-clock above. It is not the default: the tick is one wall-clock grid (4 ms at HZ=250) that
// work paced by timers or by hand-offs between threads can keep in step with, and then a profile leans
// towards what runs at the grid's instants. Measured on tests/targets/labels (three workers taking turns
// within a few ms): label shares off by up to 4.5 points at 99 Hz on the tick against at most 1.4 with
// cpu-clock, and 2 of 15 runs of the 3-point label test failed with a quarter of 999 Hz on the tick
// against none of 15 with cpu-clock alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "profiler/record/perf_event_spec.h"
#include "symbolize/result.h"
#include "unwind/tick_source.h"

namespace goperf::profiler {

struct SamplingChoice {
  EventSpec event;                          // what -e named (the default event without -e)
  std::optional<unwind::TickSource> tick;   // set when the plan uses the tick
  unwind::SamplingPlan plan;                // empty: `event` sampled at the requested rate
  std::string note;                         // what was chosen and why, for the user (may be empty)

  // The CPU time (or event count) one sample stands for: the profile's period.
  uint64_t period(uint64_t hz) const;
};

// Resolves -e (empty: the default event) at `hz` samples per second; an error for an unknown event, one
// this host cannot open, or `-e tick` where the tick cannot be used.
Result<SamplingChoice> choose_sampling(std::string_view event_name, uint64_t hz);

// Above 1 kHz a warning ("" at or below): every sample interrupts a thread and copies its registers and
// stack, so the cost grows with the rate while the profile's precision hardly does; the kernel's
// kernel.perf_event_max_sample_rate is named, since the kernel lowers it when sampling takes too long.
std::string high_rate_warning(uint64_t hz);

// The perf backend samples the tick with an event on the tracepoint timer:hrtimer_expire_entry: its id,
// after checking this process may open it (it needs kernel samples: kernel.perf_event_paranoid <= 1,
// or CAP_PERFMON); -1 when the plan does not use the tick. An error says why it cannot be opened.
Result<int> tick_tracepoint_for_perf(const SamplingChoice& choice);

}  // namespace goperf::profiler

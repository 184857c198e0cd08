// PerfSampler: the perf_event_open implementation of unwind::Sampler.
//
// One ring buffer per CPU; one event per (thread, CPU) of each target process, inherit=1 so threads the
// target creates later are followed by the kernel (the way perf record -p does it), all redirected into
// the CPU's buffer with PERF_EVENT_IOC_SET_OUTPUT. For a child started by goperf (`-- CMD`) one event per
// CPU on the child with inherit=1 and enable_on_exec=1 covers every thread from its first instruction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "profiler/record/perf_event_spec.h"
#include "symbolize/result.h"
#include "unwind/sampler.h"
#include "unwind/tick_source.h"

namespace goperf::profiler {

struct PerfSamplerOptions {
  std::vector<uint32_t> pids;      // processes to attach to (tgids)
  bool enable_on_exec = false;     // pids are children stopped before exec: count from their exec on
  EventSpec event;
  uint64_t frequency_hz = 99;
  uint32_t stack_bytes = 8192;     // user stack copied per sample (multiple of 8, < 64 KiB)
  uint32_t ring_pages = 1024;      // per CPU (power of two); halved while the kernel refuses it
  bool kernel_callchain = true;    // ask for the kernel part of the callchain (needs paranoid <= 1 or root)
  bool user_only = false;          // --user-only: exclude_kernel, no kernel callchain (not with the tick)
  // Sampling on the scheduler tick (unwind/tick_source.h), from unwind::plan_sampling(): with
  // plan.tick_every > 0, an event on the tracepoint timer:hrtimer_expire_entry (tick_tracepoint_id),
  // filtered to the tick's handler, samples every Nth tick a target thread takes; with plan.clock_hz > 0,
  // `event` (cpu-clock) samples at that rate besides. Each sample then weighs plan.tick_weight_ns or
  // plan.clock_weight_ns. An empty plan samples `event` at frequency_hz.
  std::optional<unwind::TickSource> tick;
  unwind::SamplingPlan plan;
  int tick_tracepoint_id = -1;
};

Result<std::unique_ptr<unwind::Sampler>> make_perf_sampler(const PerfSamplerOptions& options);

}  // namespace goperf::profiler

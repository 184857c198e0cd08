// BpfSampler: the eBPF implementation of unwind::Sampler (perf event programs on every CPU, filtered
// to the target processes, aggregating identical samples in a map).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symbolize/result.h"
#include "unwind/sampler.h"
#include "unwind/tick_source.h"

namespace goperf::unwind {
struct GoRuntimeLayout;
}

namespace goperf::bpf {

struct BpfSamplerOptions {
  std::vector<uint32_t> pids;     // processes (tgids) to sample
  uint64_t frequency_hz = 99;
  uint32_t perf_type = 1;         // PERF_TYPE_SOFTWARE
  uint64_t perf_config = 0;       // PERF_COUNT_SW_CPU_CLOCK
  uint32_t stack_bytes = 16384;   // how much of the user stack to copy per sample
  // The Go runtime layout of the target (unwind::GoTarget, or the version's table for a program about to
  // start): the loader writes the g/m offsets the program reads into its rodata. Null: none are read
  // (not a Go program), and label sets are recognised from their bytes.
  const unwind::GoRuntimeLayout* layout = nullptr;
  int64_t tls_g_offset = -8;      // where g lives relative to fs_base when r14 cannot be trusted
                                  // (unwind::tls_g_offsets(executable).front())
  bool capture_kernel = true;     // kernel stack ids for samples taken in the kernel; on the tick, the
                                  // kernel stack is also what tells a kernel sample from a user one
  bool user_only = false;         // --user-only: exclude_kernel on the perf event and no kernel stacks
                                  // (not with the tick, which fires in the kernel)
  uint32_t drain_interval_ms = 1000;  // how often the in-kernel aggregation map is drained
  bool enable_on_exec = false;    // pids are children stopped before exec: count from their exec on
  // Sampling on the scheduler tick (unwind/tick_source.h), set from unwind::plan_sampling(). With
  // plan.tick_every > 0 a program on the tick's hrtimer expiry samples every Nth tick a target thread
  // takes (tick must be set); with plan.clock_hz > 0 the perf event is cpu-clock at that rate. Each
  // sample then weighs plan.tick_weight_ns or plan.clock_weight_ns. An empty plan (both 0) samples the
  // perf event (perf_type, perf_config) at frequency_hz, as for hardware events.
  std::optional<unwind::TickSource> tick;
  unwind::SamplingPlan plan;
};

// Whether the eBPF sampler can run here; the error says what is missing (CAP_BPF, BTF, program type).
Status bpf_available();

// RawSample::labels of this sampler point into its label cache: unlike the other spans they stay valid
// until the sampler is destroyed (label sets are decoded once per pointer and never dropped).
// The sampler is ready to start() when this returns; after stop(), further poll() calls deliver what
// was still in the kernel (ring buffer and aggregation map), then nothing.
Result<std::unique_ptr<unwind::Sampler>> make_bpf_sampler(const BpfSamplerOptions& options);

}  // namespace goperf::bpf

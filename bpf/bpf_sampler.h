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
  // Go runtime offsets (from unwind::GoRuntimeLayout) for the goroutine id and labels; 0 = not read.
  uint32_t g_goid_offset = 0;
  uint32_t g_labels_offset = 0;
  int64_t tls_g_offset = -8;      // where g lives relative to fs_base when r14 cannot be trusted
  // Added by the eBPF backend (all from unwind::GoRuntimeLayout; 0 = not read):
  uint32_t g_stack_hi_offset = 0; // g.stack.hi: sp must lie in [stack.lo, stack.hi) for g to be trusted,
                                  // and the copy stops at stack.hi (stack.lo is the word before)
  uint32_t g_m_offset = 0;        // g.m and m.curg: samples on g0/gsignal are charged to m.curg, as
  uint32_t m_curg_offset = 0;     // runtime/pprof does
  uint32_t m_g0_offset = 0;       // m.g0 (0 in every Go version): a vDSO call runs on g0's stack, g unchanged
  uint32_t m_vdso_sp_offset = 0;  // m.vdsoSP: the vDSO caller's caller's sp, on the goroutine's stack
  uint32_t g_sched_sp_offset = 0; // g.sched.sp: the top of what a vDSO call left on g0's stack, and
  uint32_t g_sched_pc_offset = 0; // with .pc and .bp where a goroutine that g0 serves (systemstack,
  uint32_t g_sched_bp_offset = 0; // morestack) resumes
  int go_minor = 0;               // Go 1.N of the target: picks the label-set layout; 0 = guess
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

// Fills the Go runtime fields of options (g.stack.hi, g.m, m.curg, goid, labels, go_minor) from the
// layout of the target's Go version; the TLS slot is left as given.
void set_go_offsets(BpfSamplerOptions& options, const unwind::GoRuntimeLayout& layout);

// Whether the eBPF sampler can run here; the error says what is missing (CAP_BPF, BTF, program type).
Status bpf_available();

// RawSample::labels of this sampler point into its label cache: unlike the other spans they stay valid
// until the sampler is destroyed (label sets are decoded once per pointer and never dropped).
// The sampler is ready to start() when this returns; after stop(), further poll() calls deliver what
// was still in the kernel (ring buffer and aggregation map), then nothing.
Result<std::unique_ptr<unwind::Sampler>> make_bpf_sampler(const BpfSamplerOptions& options);

}  // namespace goperf::bpf

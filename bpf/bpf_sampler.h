// BpfSampler: the eBPF implementation of unwind::Sampler (perf event programs on every CPU, filtered
// to the target processes, aggregating identical samples in a map).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symbolize/result.h"
#include "unwind/sampler.h"

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
};

// Whether the eBPF sampler can run here; the error says what is missing (CAP_BPF, BTF, program type).
Status bpf_available();

Result<std::unique_ptr<unwind::Sampler>> make_bpf_sampler(const BpfSamplerOptions& options);

}  // namespace goperf::bpf

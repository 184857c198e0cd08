// Sampler: a source of CPU samples (perf_event_open or eBPF) delivering raw samples to a sink.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "symbolize/result.h"
#include "unwind/register_set.h"

namespace goperf::unwind {

// One sample as captured. Spans point into the sampler's buffers: valid only during the callback; a
// sample kept longer is copied into an OwnedRawSample (unwind/owned_raw_sample.h), which copies every span.
struct RawSample {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint64_t time_ns = 0;          // CLOCK_MONOTONIC
  uint64_t period = 1;           // event count this sample stands for (ns for cpu-clock)
  uint64_t count = 1;            // identical samples folded into this one (in-kernel aggregation)
  bool in_kernel = false;        // the interrupted pc was in the kernel
  RegisterSet user_regs;         // user-space registers at the sample
  uint64_t stack_base = 0;       // address of stack[0] (= user sp)
  std::span<const uint8_t> stack;         // copy of the top of the user stack, may be empty
  // A second copy, of another stack the walk continues on (eBPF: the goroutine stack of a vDSO call
  // made on g0's stack, from the caller's frame up), at address stack2_base; empty when none.
  uint64_t stack2_base = 0;
  std::span<const uint8_t> stack2;
  // On g0 (systemstack, morestack): the goroutine it serves (m.curg) as saved at the switch
  // (curg.sched pc/sp/bp), read at the sample (eBPF); stack2 is then that goroutine's stack from sp.
  std::optional<RegisterSet> goroutine;
  // On g0 with no goroutine (m.curg == 0), as read at the sample (eBPF): a walk that ends at morestack
  // there is whole, as the runtime's own traceback ends there (src/runtime/traceback.go: it jumps from
  // g0 to curg only when curg != nil). The perf backend cannot tell (false).
  bool on_g0_without_goroutine = false;
  std::span<const uint64_t> kernel_chain; // kernel pcs, innermost first (empty when not captured)
  std::span<const uint64_t> user_chain;   // user pcs from the kernel's FP walk (empty when not captured)
  uint64_t goid = 0;             // goroutine id when the sampler read it (eBPF), else 0
  std::span<const std::pair<std::string_view, std::string_view>> labels;  // pprof labels, if read
};

struct SamplerStats {
  uint64_t samples = 0;
  uint64_t lost = 0;          // dropped by the kernel (ring full) or by the sampler
  uint64_t bytes_read = 0;    // bytes moved from the kernel to user space
};

class Sampler {
 public:
  using Sink = std::function<void(const RawSample&)>;
  virtual ~Sampler() = default;
  virtual Status start() = 0;
  // Drains what is ready into sink; waits at most timeout_ms for data.
  virtual Status poll(const Sink& sink, int timeout_ms) = 0;
  virtual void stop() = 0;
  virtual SamplerStats stats() const = 0;
  virtual const char* name() const = 0;  // "perf", "bpf"
};

}  // namespace goperf::unwind

// SampleSymbolizer: raw sample -> unwound stack (unwind::SampleUnwinder: the walk over the sampled stack
// window and its continuations) -> symbolized locations (cached per pc) -> aggregated into a pprof-shaped
// Profile as samples arrive, so memory grows with the number of distinct stacks, not with the recording's
// length.
// The output is shaped like runtime/pprof's CPU profile (runtime/pprof/proto.go): sample types
// samples/count and cpu/nanoseconds, period type cpu/nanoseconds.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "flamegraph/profile.h"
#include "unwind/sampler.h"
#include "unwind/stack_walker.h"

namespace goperf::profiler {

struct SampleSymbolizerOptions {
  std::vector<uint32_t> pids;
  std::string event_name = "cpu-clock";
  bool time_based = true;          // the period is nanoseconds of CPU time
  uint64_t period = 10101010;      // nominal period (ns for time-based events)
  bool thread_label = true;        // label each sample with its thread id ("thread")
  bool kernel_symbols = true;      // name kernel frames from /proc/kallsyms when readable
  bool walker_pc_cache = true;     // remember the walker's per-pc lookups (false: benchmarks of the cold path)
  // Goroutine sampling (record -e goroutines): sample types goroutines/count and wall/nanoseconds.
  bool goroutines = false;
};

struct SymbolizerStats {
  uint64_t samples = 0;
  uint64_t frames = 0;           // locations emitted (physical frames)
  uint64_t unknown_frames = 0;   // physical frames no module could name
  uint64_t incomplete = 0;       // walks that stopped before the top of the stack
  // Samples as they were taken (an eBPF record of repeats counts each one), and of those the ones whose
  // stack ends in flamegraph::kTruncatedFrame: no root reached (goexit, mstart, an mcall, a C thread's start).
  uint64_t taken = 0;
  uint64_t truncated = 0;
  uint64_t with_gap = 0;  // ... and those with a flamegraph::kGapFrame: frames skipped between two known ones
  // Of the truncated samples, how many each stop reason ended (index: unwind::StopReason; the last slot
  // counts samples with no walk: no process address space, or a sample with no user registers).
  std::array<uint64_t, 16> truncated_by{};
  uint64_t pc_cache_misses = 0;   // pcs symbolized (first sight of a pc)
  uint64_t switched = 0;         // system-stack samples continued on the goroutine (m.curg)
  // How much of the sampled stack copy complete walks used (frames on the sampled stack only), in
  // buckets <= 512 B, 1, 2, 4, 8, 16, 32 KiB, more; and walks stopped at the end of the copy.
  std::array<uint64_t, 8> window_used{};
  uint64_t window_cut = 0;
  uint64_t live_tail = 0;        // walks that read the stack above the copy from the live process
  // Files whose code was sampled but that could not be shown to be the mapped ones: why, one per file
  // (their frames are unknown rather than named from another file).
  std::vector<std::string> unusable_files;
};

class SampleSymbolizer {
 public:
  explicit SampleSymbolizer(SampleSymbolizerOptions options);
  ~SampleSymbolizer();
  SampleSymbolizer(const SampleSymbolizer&) = delete;
  SampleSymbolizer& operator=(const SampleSymbolizer&) = delete;

  void add(const unwind::RawSample& sample);

  // For stacks walked elsewhere (the goroutine sampler): the locations of physical frames (innermost
  // first) appended to `out`; a location with one synthetic function name; a sample of such locations
  // (leaf first) with one value per sample type.
  void append_locations(uint32_t pid, std::span<const unwind::PhysicalFrame> frames, std::vector<uint32_t>& out);
  uint32_t named_location(std::string_view name);
  void add_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                  std::span<const flamegraph::Label> labels);

  // Ends the profile: start time (wall clock, ns since the epoch) and duration.
  flamegraph::Profile finish(int64_t start_unix_ns, int64_t duration_ns);

  const SymbolizerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::profiler

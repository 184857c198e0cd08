// GoroutineSampler: the ticks of `goperf record -e goroutines`. At each tick every goroutine of a live
// process (system goroutines left out, as runtime/pprof's goroutine profile and fgprof do)
// becomes one sample: its stack (unwind::GoroutineStacks: read from outside, the target never
// stopped), and labels `state` (the words of the runtime's dump header), `goroutine` (its id) and its
// pprof labels. Samples go to a SampleSymbolizer made with `goroutines = true`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "symbolize/result.h"
#include "unwind/goroutine_stacks.h"

namespace goperf::profiler {

class SampleSymbolizer;

struct GoroutineSamplerStats {
  uint64_t ticks = 0;
  uint64_t samples = 0;         // goroutine samples (one per goroutine per tick)
  uint64_t failed_ticks = 0;    // ticks where the goroutine list could not be read
  uint64_t system = 0;          // system goroutines left out (per tick, summed)
  uint64_t unsettled = 0;       // g's never read twice alike in a row (rewritten as read): no sample
  unwind::GoroutineStackStats stacks;
};

class GoroutineSampler {
 public:
  // Opens pid's executable and finds its goroutine list; the runtime layout is checked against the
  // process's own g's. Errors are worded for the user. `sink` must outlive the sampler.
  static Result<std::unique_ptr<GoroutineSampler>> open(uint32_t pid, SampleSymbolizer& sink);
  ~GoroutineSampler();
  GoroutineSampler(const GoroutineSampler&) = delete;
  GoroutineSampler& operator=(const GoroutineSampler&) = delete;

  // One sample per goroutine, each weighing weight_ns of wall time. Fails only when the list cannot
  // be read (the target exiting); the failure is counted and the next tick tries again.
  Status tick(int64_t weight_ns);

  // Hands every goroutine's pending counts to the profile: call before SampleSymbolizer::finish. (An
  // unchanged goroutine's ticks are summed into one sample and handed over when it changes.)
  void flush();

  // What the user should know about the layout in use ("" when nothing).
  const std::string& note() const;
  GoroutineSamplerStats stats() const;
  void set_reuse(bool on);  // off: every goroutine walked at every tick (benchmarks)

 private:
  struct Impl;
  explicit GoroutineSampler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::profiler

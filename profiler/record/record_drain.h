// SampleDrain: empties the sampler's ring buffers on a thread of its own, copying each sample into a
// queue, so that the ring buffers never overflow while the main thread opens modules or symbolizes a
// burst of new pcs (losses at 999 Hz came from exactly those pauses).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "unwind/owned_raw_sample.h"
#include "unwind/sampler.h"

namespace goperf::profiler {

class SampleDrain {
 public:
  // max_bytes bounds the queue; samples beyond it are dropped and counted.
  SampleDrain(unwind::Sampler& sampler, size_t max_bytes = 256u << 20);
  ~SampleDrain();

  void start();
  // Stops the sampler, drains what is left and joins the thread.
  void finish();
  // Moves queued samples into `out` (cleared first), waiting up to timeout_ms for the first one.
  // Returns false once finish() ran and the queue is empty.
  bool take(std::vector<unwind::OwnedRawSample>& out, int timeout_ms);
  // Gives consumed samples back for reuse (keeps their buffers).
  void recycle(std::vector<unwind::OwnedRawSample>& done);

  unwind::SamplerStats stats() const;  // the sampler's, plus samples dropped here as lost

 private:
  void run();
  void push(const unwind::RawSample& s);

  unwind::Sampler& sampler_;
  size_t max_bytes_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<unwind::OwnedRawSample> queue_;
  std::vector<unwind::OwnedRawSample> free_;
  size_t queued_bytes_ = 0;
  uint64_t dropped_ = 0;
  bool done_ = false;
  unwind::SamplerStats stats_;
};

}  // namespace goperf::profiler

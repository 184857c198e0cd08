// The drain thread: poll the sampler every 20 ms at most, copy, notify.
#include "profiler/record_drain.h"

#include <chrono>

namespace goperf::profiler {

SampleDrain::SampleDrain(unwind::Sampler& sampler, size_t max_bytes) : sampler_(sampler), max_bytes_(max_bytes) {}

SampleDrain::~SampleDrain() { finish(); }

void SampleDrain::start() { thread_ = std::thread([this] { run(); }); }

void SampleDrain::finish() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  thread_.join();
}

void SampleDrain::push(const unwind::RawSample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = s.stack.size() + s.kernel_chain.size() * 8 + sizeof(OwnedSample);
  if (queued_bytes_ + bytes > max_bytes_) {
    ++dropped_;
    return;
  }
  OwnedSample o;
  if (!free_.empty()) {
    o = std::move(free_.back());
    free_.pop_back();
  }
  o.sample = s;
  o.stack.assign(s.stack.begin(), s.stack.end());
  o.kernel_chain.assign(s.kernel_chain.begin(), s.kernel_chain.end());
  o.sample.user_chain = {};
  // labels stay: the eBPF sampler's label views live as long as the sampler (bpf/bpf_sampler.h).
  queue_.push_back(std::move(o));
  queued_bytes_ += bytes;
}

void SampleDrain::run() {
  auto sink = [this](const unwind::RawSample& s) { push(s); };
  while (!stop_.load()) {
    (void)sampler_.poll(sink, 20);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_ = sampler_.stats();
    }
    cv_.notify_one();
  }
  sampler_.stop();
  (void)sampler_.poll(sink, 0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = sampler_.stats();
    done_ = true;
  }
  cv_.notify_one();
}

bool SampleDrain::take(std::vector<OwnedSample>& out, int timeout_ms) {
  out.clear();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !queue_.empty() || done_; });
  if (queue_.empty()) return !done_;
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_bytes_ = 0;
  lock.unlock();
  for (auto& o : out) {
    // Spans re-pointed at this sample's own vectors (moving a vector keeps its buffer, but be exact).
    o.sample.stack = o.stack;
    o.sample.kernel_chain = o.kernel_chain;
  }
  return true;
}

void SampleDrain::recycle(std::vector<OwnedSample>& done) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& o : done) {
    if (free_.size() < 256) free_.push_back(std::move(o));
  }
  done.clear();
}

unwind::SamplerStats SampleDrain::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = stats_;
  s.lost += dropped_;
  return s;
}

}  // namespace goperf::profiler

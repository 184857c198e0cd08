// The drain thread: poll the sampler every 20 ms at most, copy, notify.
#include "profiler/record/record_drain.h"

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
  size_t bytes = unwind::OwnedRawSample::copied_bytes(s) + sizeof(unwind::OwnedRawSample);
  if (queued_bytes_ + bytes > max_bytes_) {
    ++dropped_;
    return;
  }
  unwind::OwnedRawSample o;
  if (!free_.empty()) {
    o = std::move(free_.back());
    free_.pop_back();
  }
  // Every buffer s points to is the sampler's and is reused or freed once this callback returns.
  o.assign(s);
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

bool SampleDrain::take(std::vector<unwind::OwnedRawSample>& out, int timeout_ms) {
  out.clear();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !queue_.empty() || done_; });
  if (queue_.empty()) return !done_;
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_bytes_ = 0;
  return true;
}

void SampleDrain::recycle(std::vector<unwind::OwnedRawSample>& done) {
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

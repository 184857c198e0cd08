// Unit tests of SampleDrain: every buffer a queued sample points to outlives the sampler's callback.
// The sampler here frees (after poisoning) each buffer as soon as the callback returns, as the eBPF
// backend does with its ring-buffer record: a sample field the drain forgets to copy is read after free
// (AddressSanitizer reports it; without ASan the poisoned bytes differ from what was sent).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "profiler/record/record_drain.h"

namespace goperf::profiler {
namespace {

using unwind::RawSample;

// The contents sent for sample i, recognisable per sample and per field.
std::vector<uint8_t> stack_bytes(uint32_t i, uint8_t field, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = static_cast<uint8_t>(i * 7 + field * 31 + k);
  return v;
}
std::vector<uint64_t> chain(uint32_t i, uint64_t base, size_t n) {
  std::vector<uint64_t> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = base + i * 0x100 + k;
  return v;
}
std::string label_text(const char* what, uint32_t i) { return std::string(what) + "-" + std::to_string(i) + "-long-enough-to-be-on-the-heap"; }

// Sends `count` samples, each from heap buffers it poisons and frees right after the callback.
class FreeingSampler : public unwind::Sampler {
 public:
  explicit FreeingSampler(uint32_t count) : count_(count) {}
  Status start() override { return {}; }
  Status poll(const Sink& sink, int) override {
    for (; sent_ < count_; ++sent_) {
      uint32_t i = sent_;
      auto stack = std::make_unique<std::vector<uint8_t>>(stack_bytes(i, 1, 64 + i));
      auto stack2 = std::make_unique<std::vector<uint8_t>>(stack_bytes(i, 2, 32 + i));
      auto kernel = std::make_unique<std::vector<uint64_t>>(chain(i, 0xffffffff81000000, 3));
      auto user = std::make_unique<std::vector<uint64_t>>(chain(i, 0x401000, 4));
      auto key = std::make_unique<std::string>(label_text("key", i));
      auto value = std::make_unique<std::string>(label_text("value", i));
      auto labels = std::make_unique<std::vector<std::pair<std::string_view, std::string_view>>>(
          1, std::make_pair(std::string_view(*key), std::string_view(*value)));
      RawSample s;
      s.pid = 100;
      s.tid = 100 + i;
      s.time_ns = 1000 + i;
      s.stack_base = 0x7ffc0000 + i;
      s.stack = *stack;
      s.stack2_base = 0xc000100000 + i;
      s.stack2 = *stack2;
      unwind::RegisterSet g;
      g.pc = 0x402000 + i;
      s.goroutine = g;
      s.kernel_chain = *kernel;
      s.user_chain = *user;
      s.goid = 1 + i;
      s.labels = *labels;
      sink(s);
      for (auto* v : {stack.get(), stack2.get()}) std::memset(v->data(), 0xdd, v->size());
      for (auto* v : {kernel.get(), user.get()}) std::memset(v->data(), 0xdd, v->size() * 8);
      for (auto* t : {key.get(), value.get()}) std::memset(t->data(), 'X', t->size());
    }
    return {};
  }
  void stop() override {}
  unwind::SamplerStats stats() const override { return {sent_, 0, 0}; }
  const char* name() const override { return "freeing"; }

 private:
  uint32_t count_;
  uint32_t sent_ = 0;
};

TEST(SampleDrain, QueuedSamplesOwnEveryBuffer) {
  constexpr uint32_t kCount = 50;
  FreeingSampler sampler(kCount);
  SampleDrain drain(sampler);
  drain.start();
  std::vector<unwind::OwnedRawSample> got;
  std::vector<unwind::OwnedRawSample> batch;
  while (drain.take(batch, 100)) {
    for (auto& o : batch) got.push_back(std::move(o));
    if (got.size() == kCount) drain.finish();
  }
  ASSERT_EQ(got.size(), kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    const RawSample& s = got[i].sample();
    EXPECT_EQ(s.tid, 100 + i);
    EXPECT_EQ(s.stack_base, 0x7ffc0000u + i);
    EXPECT_EQ(std::vector<uint8_t>(s.stack.begin(), s.stack.end()), stack_bytes(i, 1, 64 + i));
    EXPECT_EQ(s.stack2_base, 0xc000100000u + i);
    EXPECT_EQ(std::vector<uint8_t>(s.stack2.begin(), s.stack2.end()), stack_bytes(i, 2, 32 + i));
    ASSERT_TRUE(s.goroutine.has_value());
    EXPECT_EQ(s.goroutine->pc, 0x402000u + i);
    EXPECT_EQ(std::vector<uint64_t>(s.kernel_chain.begin(), s.kernel_chain.end()), chain(i, 0xffffffff81000000, 3));
    EXPECT_EQ(std::vector<uint64_t>(s.user_chain.begin(), s.user_chain.end()), chain(i, 0x401000, 4));
    EXPECT_EQ(s.goid, 1u + i);
    ASSERT_EQ(s.labels.size(), 1u);
    EXPECT_EQ(s.labels[0].first, label_text("key", i));
    EXPECT_EQ(s.labels[0].second, label_text("value", i));
  }
}

}  // namespace
}  // namespace goperf::profiler

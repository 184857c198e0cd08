// BpfSampler against this test process: samples arrive with the right pid, registers and stack copy, and
// every program and map the sampler created is gone once it is destroyed.
#include "bpf/bpf_sampler.h"

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>

namespace goperf::bpf {
namespace {

#define SKIP_WITHOUT_BPF()                                               \
  do {                                                                   \
    if (geteuid() != 0) GTEST_SKIP() << "needs root for BPF";            \
    if (auto st = bpf_available(); !st) GTEST_SKIP() << st.error().message(); \
  } while (0)

// Names of the BPF programs loaded in the kernel right now.
std::multiset<std::string> loaded_programs() {
  std::multiset<std::string> names;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) names.insert(info.name);
    close(fd);
  }
  return names;
}

TEST(BpfAvailable, SaysWhatIsMissingOrSucceeds) {
  auto st = bpf_available();
  if (!st) {
    EXPECT_NE(st.error().message().find("eBPF backend unavailable"), std::string::npos) << st.error().message();
    EXPECT_EQ(st.error().message().find('\n'), std::string::npos);
  }
}

TEST(BpfSampler, RejectsEmptyPidList) {
  BpfSamplerOptions o;
  auto s = make_bpf_sampler(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(BpfSampler, SamplesThisProcessAndReleasesEverything) {
  SKIP_WITHOUT_BPF();
  size_t before = loaded_programs().count("goperf_sample");
  struct Spinner {
    std::atomic<bool> run{true};
    std::thread t{[this] {
      volatile uint64_t x = 1;
      while (run.load(std::memory_order_relaxed)) x = x * 3 + 1;
    }};
    ~Spinner() {
      run = false;
      t.join();
    }
  } spinner;
  uint64_t delivered = 0, with_stack = 0, bad = 0;
  unwind::SamplerStats stats;
  {
    BpfSamplerOptions o;
    o.pids = {static_cast<uint32_t>(getpid())};
    o.frequency_hz = 999;
    o.drain_interval_ms = 100;
    auto made = make_bpf_sampler(o);
    ASSERT_TRUE(made.ok()) << made.error().message();
    auto& sampler = *made;
    EXPECT_STREQ(sampler->name(), "bpf");
    ASSERT_TRUE(sampler->start().ok());
    EXPECT_EQ(loaded_programs().count("goperf_sample"), before + 1);
    auto sink = [&](const unwind::RawSample& s) {
      delivered += s.count;
      if (s.pid != static_cast<uint32_t>(getpid()) || s.count == 0 || s.stack_base != s.user_regs.sp) ++bad;
      if (!s.stack.empty()) ++with_stack;
    };
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
    while (std::chrono::steady_clock::now() < end) ASSERT_TRUE(sampler->poll(sink, 50).ok());
    sampler->stop();
    ASSERT_TRUE(sampler->poll(sink, 0).ok());
    stats = sampler->stats();
  }
  // ~600 samples expected at 999 Hz on one busy thread; allow a loaded machine.
  EXPECT_GT(delivered, 50u);
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(with_stack, 0u);
  EXPECT_EQ(stats.samples, delivered);
  EXPECT_GT(stats.bytes_read, 0u);
  EXPECT_EQ(loaded_programs().count("goperf_sample"), before);
}

}  // namespace
}  // namespace goperf::bpf

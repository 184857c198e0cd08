// TickSource: finding the tick in kallsyms, telling a tick sample's interrupted kernel frames from the
// interrupt's own, and splitting a rate between the tick and cpu-clock.
#include "unwind/tick_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace goperf::unwind {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/goperf-kallsyms-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

// The kallsyms file given; no nohz_full CPUs, every CPU in high-resolution mode.
Result<TickSource> find_in(const std::string& kallsyms) {
  TickSourcePaths paths;
  paths.kallsyms = kallsyms;
  paths.nohz_full = "/nonexistent";
  paths.timer_list = "/nonexistent";
  return find_tick_source(paths);
}

TEST(TickSourceTest, FindsTheTickHandlerAndTheTimerInterruptEntry) {
  auto path = write_temp(
      "ffffffff81000000 T _text\n"
      "ffffffff81000df0 T asm_sysvec_apic_timer_interrupt\n"
      "ffffffff81000df0 T asm_sysvec_apic_timer_interrupt\n"  // listed twice, as on 6.18
      "ffffffff81000e10 T asm_sysvec_x86_platform_ipi\n"
      "ffffffff81442960 t tick_nohz_handler\n"
      "ffffffffc0000000 t some_module_fn\t[somemod]\n");
  auto tick = find_in(path);
  std::remove(path.c_str());
  ASSERT_TRUE(tick) << tick.error().message();
  EXPECT_EQ(tick->handler, 0xffffffff81442960u);
  EXPECT_EQ(tick->irq_entry_start, 0xffffffff81000df0u);
  EXPECT_EQ(tick->irq_entry_end, 0xffffffff81000e10u);
  // HZ comes from the coarse clock's resolution: one of the kernel's choices.
  uint32_t hz = tick->hz();
  EXPECT_TRUE(hz == 100 || hz == 250 || hz == 300 || hz == 1000) << hz;
}

TEST(TickSourceTest, AcceptsTheHandlerNameOfKernelsBefore68) {
  auto path = write_temp(
      "ffffffff81000df0 T asm_sysvec_apic_timer_interrupt\n"
      "ffffffff81000e10 T asm_sysvec_x86_platform_ipi\n"
      "ffffffff81150000 t tick_sched_timer\n");
  auto tick = find_in(path);
  std::remove(path.c_str());
  ASSERT_TRUE(tick) << tick.error().message();
  EXPECT_EQ(tick->handler, 0xffffffff81150000u);
}

TEST(TickSourceTest, HiddenAddressesSayWhy) {
  auto path = write_temp(
      "0000000000000000 T asm_sysvec_apic_timer_interrupt\n"
      "0000000000000000 t tick_nohz_handler\n");
  auto tick = find_in(path);
  std::remove(path.c_str());
  ASSERT_FALSE(tick);
  EXPECT_EQ(tick.error().code(), ErrorCode::kPermission);
  EXPECT_NE(tick.error().message().find("kptr_restrict"), std::string::npos) << tick.error().message();
}

TEST(TickSourceTest, NoTickHandlerIsUnsupported) {
  auto path = write_temp(
      "ffffffff81000df0 T asm_sysvec_apic_timer_interrupt\n"
      "ffffffff81000e10 T asm_sysvec_x86_platform_ipi\n");
  auto tick = find_in(path);
  std::remove(path.c_str());
  ASSERT_FALSE(tick);
  EXPECT_EQ(tick.error().code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(find_in("/nonexistent/kallsyms"));
}

TEST(TickSourceTest, CpusWithoutATickOrInLowResolutionModeAreUnsupported) {
  auto kallsyms = write_temp(
      "ffffffff81000df0 T asm_sysvec_apic_timer_interrupt\n"
      "ffffffff81000e10 T asm_sysvec_x86_platform_ipi\n"
      "ffffffff81442960 t tick_nohz_handler\n");
  auto none = write_temp("\n");
  auto isolated = write_temp("2-3\n");
  auto high = write_temp("cpu: 0\n  .hres_active    : 1\ncpu: 1\n  .hres_active    : 1\n");
  auto low = write_temp("cpu: 0\n  .hres_active    : 1\ncpu: 1\n  .hres_active    : 0\n");
  TickSourcePaths paths{kallsyms, none, high};
  EXPECT_TRUE(find_tick_source(paths));
  paths.nohz_full = isolated;
  auto r = find_tick_source(paths);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("nohz_full"), std::string::npos);
  paths.nohz_full = none;
  paths.timer_list = low;
  r = find_tick_source(paths);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("low-resolution"), std::string::npos);
  for (const auto& p : {kallsyms, none, isolated, high, low}) std::remove(p.c_str());
}

TEST(TickSourceTest, InterruptedFramesAreThoseAboveTheEntryStub) {
  TickSource tick;
  tick.irq_entry_start = 0x1000;
  tick.irq_entry_end = 0x1020;
  // As perf's callchain of the tracepoint gives them, innermost first.
  std::vector<uint64_t> from_kernel = {0x5000, 0x5100, 0x1016, 0x7000, 0x7100};
  auto frames = interrupted_frames(from_kernel, tick);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], 0x7000u);
  EXPECT_EQ(frames[1], 0x7100u);
  // From user space the chain ends at the stub.
  std::vector<uint64_t> from_user = {0x5000, 0x5100, 0x1016};
  EXPECT_TRUE(interrupted_frames(from_user, tick).empty());
  // Without the stub nothing can be told: no kernel frames.
  std::vector<uint64_t> no_stub = {0x5000, 0x7000};
  EXPECT_TRUE(interrupted_frames(no_stub, tick).empty());
  // The stub's start is not a return address into it.
  std::vector<uint64_t> at_start = {0x1000, 0x7000};
  EXPECT_TRUE(interrupted_frames(at_start, tick).empty());
}

TickSource tick_of(uint32_t hz) {
  TickSource t;
  t.tick_ns = 1000000000ULL / hz;
  return t;
}

TEST(SamplingPlanTest, UpToTheTickRateEveryNthTick) {
  auto t = tick_of(250);
  auto plan = plan_sampling(99, &t);
  EXPECT_EQ(plan.tick_every, 2u);  // 125 Hz: at least the rate asked for
  EXPECT_EQ(plan.clock_hz, 0u);
  EXPECT_EQ(plan.tick_weight_ns, 8000000u);
  EXPECT_DOUBLE_EQ(plan.effective_hz(), 125.0);
  plan = plan_sampling(250, &t);
  EXPECT_EQ(plan.tick_every, 1u);
  EXPECT_EQ(plan.clock_hz, 0u);
  plan = plan_sampling(1, &t);
  EXPECT_EQ(plan.tick_every, 250u);
  EXPECT_EQ(plan.tick_weight_ns, 1000000000u);
  auto t1000 = tick_of(1000);
  EXPECT_EQ(plan_sampling(99, &t1000).tick_every, 10u);
}

TEST(SamplingPlanTest, AboveTheTickRateEveryTickPlusCpuClock) {
  auto t = tick_of(250);
  auto plan = plan_sampling(999, &t);
  EXPECT_EQ(plan.tick_every, 1u);
  EXPECT_EQ(plan.clock_hz, 749u);
  EXPECT_EQ(plan.clock_period_ns(), 1000000000u / 749);
  // Every sample weighs 1/999 s, whichever source it came from.
  EXPECT_EQ(plan.tick_weight_ns, 1000000000u / 999);
  EXPECT_EQ(plan.clock_weight_ns, 1000000000u / 999);
  EXPECT_NEAR(plan.effective_hz(), 999.0, 0.01);
}

TEST(SamplingPlanTest, ASecondOfCpuTimeWeighsASecondAtEveryRate) {
  for (uint32_t hz : {100u, 250u, 300u, 1000u}) {
    auto t = tick_of(hz);
    for (uint64_t rate : {1ull, 19ull, 49ull, 99ull, 100ull, 199ull, 250ull, 251ull, 499ull, 999ull, 4999ull}) {
      auto plan = plan_sampling(rate, &t);
      // Samples per second of CPU time times what each stands for.
      double ticks = plan.tick_every ? static_cast<double>(hz) / plan.tick_every : 0.0;
      double weight = ticks * static_cast<double>(plan.tick_weight_ns) +
                      static_cast<double>(plan.clock_hz) * static_cast<double>(plan.clock_weight_ns);
      EXPECT_NEAR(weight / 1e9, 1.0, 0.01) << "HZ " << hz << " rate " << rate;
      EXPECT_GE(plan.effective_hz(), static_cast<double>(rate) * 0.999) << "HZ " << hz << " rate " << rate;
    }
  }
}

TEST(SamplingPlanTest, WithoutTheTickCpuClockAlone) {
  auto plan = plan_sampling(99, nullptr);
  EXPECT_EQ(plan.tick_every, 0u);
  EXPECT_EQ(plan.clock_hz, 99u);
  EXPECT_EQ(plan.clock_weight_ns, 1000000000u / 99);
  EXPECT_TRUE(plan_sampling(0, nullptr).empty());
}

}  // namespace
}  // namespace goperf::unwind

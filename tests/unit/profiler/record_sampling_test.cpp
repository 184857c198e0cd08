// SamplingChoice: the default never uses the tick; -e tick plans it (or says in one line why it cannot),
// and a profile's period is the CPU time one sample stands for.
#include "profiler/record/record_sampling.h"

#include <gtest/gtest.h>

#include <string>

namespace goperf::profiler {
namespace {

TEST(RecordSampling, TheDefaultIsNotTheTick) {
  auto c = choose_sampling("", 99);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->tick);
  EXPECT_TRUE(c->plan.empty());
  if (c->event.time_based) {
    EXPECT_EQ(c->event.name, "cpu-clock");
    EXPECT_EQ(c->period(99), 1000000000u / 99);
  }
  auto tracepoint = tick_tracepoint_for_perf(*c);
  ASSERT_TRUE(tracepoint);
  EXPECT_EQ(*tracepoint, -1);  // nothing to open
}

TEST(RecordSampling, ExplicitCpuClockIsNotTheTick) {
  auto c = choose_sampling("cpu-clock", 999);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->tick);
  EXPECT_EQ(c->period(999), 1000000000u / 999);
}

TEST(RecordSampling, TickPlansEveryNthTickAndAboveItsRateAddsCpuClock) {
  auto tick = unwind::find_tick_source();
  auto low = choose_sampling("tick", 99);
  if (!tick) {
    // Where the tick cannot be used, -e tick is one line that says why.
    ASSERT_FALSE(low);
    EXPECT_EQ(low.error().message().rfind("-e tick: ", 0), 0u) << low.error().message();
    GTEST_SKIP() << tick.error().message();
  }
  ASSERT_TRUE(low) << low.error().message();
  ASSERT_TRUE(low->tick);
  EXPECT_EQ(low->plan.tick_every, tick->hz() / 99);
  EXPECT_EQ(low->plan.clock_hz, 0u);
  EXPECT_EQ(low->period(99), low->plan.tick_every * tick->tick_ns);
  EXPECT_NE(low->note.find("scheduler tick"), std::string::npos) << low->note;

  uint64_t above = tick->hz() + 100;
  auto high = choose_sampling("tick", above);
  ASSERT_TRUE(high) << high.error().message();
  EXPECT_EQ(high->plan.tick_every, 1u);
  EXPECT_EQ(high->plan.clock_hz, 100u);
  EXPECT_EQ(high->period(above), 1000000000u / above);
  EXPECT_NE(high->note.find("cpu-clock at 100 Hz"), std::string::npos) << high->note;
}

}  // namespace
}  // namespace goperf::profiler

// parse_duration_seconds: Go's time.ParseDuration units, and a bare number of seconds.
#include "profiler/options/duration_text.h"

#include <gtest/gtest.h>

namespace goperf::profiler {
namespace {

TEST(DurationTextTest, UnitsAsGoReadsThem) {
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("10s"), 10);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1m"), 60);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1.5s"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("250us"), 250e-6);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("2m30s"), 150);
}

TEST(DurationTextTest, BareNumberIsSeconds) {
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("30"), 30);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("0"), 0);
}

TEST(DurationTextTest, RefusesWhatIsNoDuration) {
  for (const char* bad : {"", "s", "-1", "-1s", "10x", "1m30", "1.2.3s", "ms", "10 s", "1d"}) {
    EXPECT_FALSE(parse_duration_seconds(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace goperf::profiler

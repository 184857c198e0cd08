// merge_profiles: profile.Merge's rules (same types, samples summed per stack and labels, header fields).
#include "flamegraph/profile_merge.h"

#include <gtest/gtest.h>

#include <array>

#include "flamegraph/profile_builder.h"

namespace goperf::flamegraph {
namespace {

Profile one_stack(const char* leaf, int64_t value, int64_t time, int64_t duration, int64_t period) {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}}, {"cpu", "nanoseconds"}, period);
  Mapping m{0x400000, 0x500000, 0, "/bin/server", "abc", true, true, true, true};
  const int32_t mapping = b.add_mapping(m);
  std::array<Line, 1> main_line{Line{b.add_function("main.main", "main.main", "main.go"), 10}};
  std::array<Line, 1> leaf_line{Line{b.add_function(leaf, leaf, "main.go"), 20}};
  std::array<uint32_t, 2> stack{b.add_location(0x401000, mapping, leaf_line), b.add_location(0x400100, mapping, main_line)};
  std::array<int64_t, 2> values{value, value * 10};
  b.add_sample(stack, values);
  Profile p = b.take();
  p.time_nanos = time;
  p.duration_nanos = duration;
  return p;
}

TEST(ProfileMergeTest, SumsTheSameStackAndKeepsTheOthers) {
  std::vector<Profile> in;
  in.push_back(one_stack("main.a", 2, 2000, 10, 100));
  in.push_back(one_stack("main.a", 3, 1000, 20, 300));
  in.push_back(one_stack("main.b", 5, 0, 30, 200));
  auto merged = merge_profiles(std::move(in), {"a", "b", "c"});
  ASSERT_TRUE(merged) << merged.error().message();
  ASSERT_EQ(merged->samples.size(), 2u);
  EXPECT_EQ(merged->samples[0].values, (std::vector<int64_t>{5, 50}));
  EXPECT_EQ(merged->samples[1].values, (std::vector<int64_t>{5, 50}));
  EXPECT_EQ(merged->mappings.size(), 1u);
  EXPECT_EQ(merged->functions.size(), 3u);
  EXPECT_EQ(merged->time_nanos, 1000);     // the earliest
  EXPECT_EQ(merged->duration_nanos, 60);   // added
  EXPECT_EQ(merged->period, 300);          // the largest
}

TEST(ProfileMergeTest, RefusesOtherSampleTypes) {
  std::vector<Profile> in;
  in.push_back(one_stack("main.a", 2, 0, 0, 1));
  Profile heap;
  heap.sample_types = {{"alloc_space", "bytes"}};
  in.push_back(heap);
  auto merged = merge_profiles(std::move(in), {"cpu.pb.gz", "heap.pb.gz"});
  ASSERT_FALSE(merged);
  EXPECT_NE(merged.error().message().find("cannot merge heap.pb.gz"), std::string::npos) << merged.error().message();
}

}  // namespace
}  // namespace goperf::flamegraph

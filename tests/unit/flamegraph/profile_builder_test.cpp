// ProfileBuilder: interning and sample aggregation.
#include "flamegraph/profile_builder.h"

#include <gtest/gtest.h>

#include <array>

#include "symbolize/frame.h"

namespace goperf::flamegraph {
namespace {

TEST(ProfileBuilderTest, InternsFunctionsLocationsAndMappings) {
  ProfileBuilder b({{"samples", "count"}}, {}, 0);
  EXPECT_EQ(b.add_function("a"), b.add_function("a"));
  EXPECT_NE(b.add_function("a"), b.add_function("b"));
  EXPECT_NE(b.add_function("a", "a", "x.go"), b.add_function("a", "a", "y.go"));
  Mapping m{0x1000, 0x2000, 0, "/bin/x", "", true, true, true, true};
  EXPECT_EQ(b.add_mapping(m), b.add_mapping(m));
  EXPECT_EQ(b.add_named_location("f"), b.add_named_location("f"));
  EXPECT_NE(b.add_named_location("f"), b.add_named_location("g"));
  std::array<Line, 1> l{Line{b.add_function("a"), 3}};
  EXPECT_EQ(b.add_location(0x1234, 0, l), b.add_location(0x1234, 0, l));
  EXPECT_NE(b.add_location(0x1234, 0, l), b.add_location(0x1238, 0, l));
  Profile p = b.take();
  EXPECT_EQ(p.functions.size(), 6u);  // a, b, a@x.go, a@y.go, f, g
  EXPECT_EQ(p.locations.size(), 4u);  // f, g, a@0x1234, a@0x1238
}

TEST(ProfileBuilderTest, LocationFromFramesKeepsInlinedOrderAndUnknownPcs) {
  ProfileBuilder b({{"samples", "count"}}, {}, 0);
  std::array<symbolize::Frame, 2> frames{};
  frames[0].pc = 0x10;
  frames[0].function = "pkg.inner";
  frames[0].file = "a.go";
  frames[0].line = 5;
  frames[0].inlined = true;
  frames[1].pc = 0x10;
  frames[1].function = "pkg.outer";
  frames[1].file = "a.go";
  frames[1].line = 9;
  uint32_t loc = b.add_location(0x10, -1, frames);
  std::array<symbolize::Frame, 0> none{};
  uint32_t unknown = b.add_location(0xdead, -1, none);
  Profile p = b.take();
  ASSERT_EQ(p.locations[loc].lines.size(), 2u);
  EXPECT_EQ(p.functions[p.locations[loc].lines[0].function].name, "pkg.inner");
  EXPECT_EQ(p.functions[p.locations[loc].lines[1].function].name, "pkg.outer");
  EXPECT_EQ(p.locations[loc].lines[1].line, 9);
  EXPECT_EQ(p.functions[p.locations[unknown].lines[0].function].name, "0xdead");
}

TEST(ProfileBuilderTest, AggregatesSameStackAndLabelsInAnyOrder) {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}}, {"cpu", "nanoseconds"}, 1);
  std::array<uint32_t, 2> s1{b.add_named_location("leaf"), b.add_named_location("root")};
  std::array<uint32_t, 1> s2{b.add_named_location("root")};
  std::array<Label, 2> ab{Label{"a", "1", 0, ""}, Label{"b", "2", 0, ""}};
  std::array<Label, 2> ba{Label{"b", "2", 0, ""}, Label{"a", "1", 0, ""}};
  std::array<Label, 1> other{Label{"a", "9", 0, ""}};
  std::array<int64_t, 2> v{1, 100};
  std::array<int64_t, 2> pre{40, 4000};
  b.add_sample(s1, v, ab);
  b.add_sample(s1, v, ba);
  b.add_sample(s1, pre, ab);  // a pre-aggregated count
  b.add_sample(s1, v, other);
  b.add_sample(s2, v);
  b.add_sample(s1, v);
  EXPECT_EQ(b.sample_count(), 4u);
  b.add_sample(s2, v);
  Profile p = b.take();
  ASSERT_EQ(p.samples.size(), 4u);
  EXPECT_EQ(p.samples[0].values, (std::vector<int64_t>{42, 4200}));
  EXPECT_EQ(p.samples[1].values, (std::vector<int64_t>{1, 100}));
  EXPECT_EQ(p.samples[2].values, (std::vector<int64_t>{2, 200}));
  EXPECT_EQ(p.samples[3].values, (std::vector<int64_t>{1, 100}));
}

}  // namespace
}  // namespace goperf::flamegraph

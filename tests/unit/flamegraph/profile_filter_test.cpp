// filter_profile's tag filters: numbers and ranges match numeric labels exactly (pprof's -tagfocus).
#include "flamegraph/profile_filter.h"

#include <gtest/gtest.h>

namespace goperf::flamegraph {
namespace {

Profile labelled(std::initializer_list<Label> labels) {
  Profile p;
  p.sample_types = {{"samples", "count"}};
  for (const Label& l : labels) p.samples.push_back(Sample{{}, {1}, {l}});
  return p;
}

std::vector<int64_t> kept_numbers(const Profile& p) {
  std::vector<int64_t> out;
  for (const Sample& s : p.samples) out.push_back(s.labels[0].num);
  return out;
}

TEST(ProfileFilterTest, NumericTagfocusMatchesTheValueExactly) {
  Profile p = labelled({{"goroutine", "", 3, ""}, {"goroutine", "", 33168, ""}, {"goroutine", "", 13, ""}});
  FilterOptions o;
  o.tagfocus = {{"goroutine", "3"}};
  auto kept = filter_profile(p, o);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept_numbers(*kept), std::vector<int64_t>{3});
}

TEST(ProfileFilterTest, NumericRanges) {
  Profile p = labelled({{"goroutine", "", 3, ""}, {"goroutine", "", 33168, ""}, {"goroutine", "", 13, ""}});
  FilterOptions o;
  o.tagfocus = {{"goroutine", "4:33168"}};
  EXPECT_EQ(kept_numbers(*filter_profile(p, o)), (std::vector<int64_t>{33168, 13}));
  o.tagfocus = {{"goroutine", ":13"}};
  EXPECT_EQ(kept_numbers(*filter_profile(p, o)), (std::vector<int64_t>{3, 13}));
  o.tagfocus = {{"goroutine", "14:"}};
  EXPECT_EQ(kept_numbers(*filter_profile(p, o)), (std::vector<int64_t>{33168}));
  o.tagfocus = {};
  o.tagignore = {{"goroutine", "3"}};
  EXPECT_EQ(kept_numbers(*filter_profile(p, o)), (std::vector<int64_t>{33168, 13}));
}

TEST(ProfileFilterTest, StringLabelsByRegexAndANumberByEquality) {
  Profile p = labelled({{"worker", "alpha", 0, ""}, {"worker", "3", 0, ""}, {"worker", "33", 0, ""}});
  FilterOptions o;
  o.tagfocus = {{"worker", "alp.a"}};
  auto kept = filter_profile(p, o);
  ASSERT_EQ(kept->samples.size(), 1u);
  EXPECT_EQ(kept->samples[0].labels[0].str, "alpha");
  o.tagfocus = {{"worker", "3"}};
  kept = filter_profile(p, o);
  ASSERT_EQ(kept->samples.size(), 1u);
  EXPECT_EQ(kept->samples[0].labels[0].str, "3");
}

}  // namespace
}  // namespace goperf::flamegraph

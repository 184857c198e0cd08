// CallTree: the trie equals the frame paths of the samples; from_folded agrees with the Profile path.
#include "flamegraph/call_tree.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "flamegraph/folded_reader.h"
#include "flamegraph/svg_writer.h"

namespace goperf::flamegraph {
namespace {

// Every node as "root;...;frame" -> (total, self).
std::map<std::string, std::pair<int64_t, int64_t>> paths(const CallTree& t) {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (size_t i = 1; i < t.nodes().size(); ++i) {
    std::string p;
    for (uint32_t n = static_cast<uint32_t>(i); n != 0; n = t.nodes()[n].parent) {
      const TreeFrame& f = t.frames()[t.nodes()[n].frame];
      p = f.name + (f.inlined ? "[i]" : "") + (p.empty() ? "" : ";" + p);
    }
    EXPECT_EQ(out.count(p), 0u) << "duplicate node " << p;
    out[p] = {t.nodes()[i].total, t.nodes()[i].self};
  }
  return out;
}

const char* kFolded =
    "main.f;main.g 3\n"
    "main.f1;x 1\n"
    "main.f 2\n"
    "main.f.x;y 4\n"      // sorts between "main.f 2" and "main.f;..." as bytes: must still merge main.f
    "main.f;main.g;h_[i] 5\n"
    "main.f;main.g 1\n"   // a repeated stack
    "z 0\n";

TEST(CallTreeTest, MergesStacksInAnyOrder) {
  auto p = parse_folded(kFolded);
  ASSERT_TRUE(p.ok());
  CallTree t = CallTree::build(*p, {});
  auto got = paths(t);
  EXPECT_EQ(t.total(), 16);
  EXPECT_EQ(got["main.f"], std::make_pair(int64_t{11}, int64_t{2}));
  EXPECT_EQ(got["main.f;main.g"], std::make_pair(int64_t{9}, int64_t{4}));
  EXPECT_EQ(got["main.f;main.g;h[i]"], std::make_pair(int64_t{5}, int64_t{5}));
  EXPECT_EQ(got["main.f.x;y"], std::make_pair(int64_t{4}, int64_t{4}));
  EXPECT_EQ(got.count("z"), 0u);  // zero-valued stacks are not drawn
  EXPECT_EQ(got.size(), 7u);
}

TEST(CallTreeTest, FromFoldedEqualsTheProfilePath) {
  for (bool reverse : {false, true}) {
    TreeOptions o;
    o.reverse = reverse;
    auto p = parse_folded(kFolded);
    ASSERT_TRUE(p.ok());
    CallTree a = CallTree::build(*p, o);
    auto b = CallTree::from_folded(kFolded, o);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(paths(a), paths(*b)) << reverse;
    std::string sa, sb;
    ASSERT_TRUE(SvgWriter(SvgOptions{}).write_tree(a, sa).ok());
    ASSERT_TRUE(SvgWriter(SvgOptions{}).write_tree(*b, sb).ok());
    EXPECT_EQ(sa, sb);
  }
  EXPECT_FALSE(CallTree::from_folded("", {}).ok());
  EXPECT_FALSE(CallTree::from_folded("not folded\n", {}).ok());
}

TEST(CallTreeTest, BaseValuesFollowTheSamePaths) {
  auto now = parse_folded("a;b 6\na;c 4\n");
  auto base = parse_folded("a;b 1\na;d 9\n");
  ASSERT_TRUE(now.ok() && base.ok());
  CallTree t = CallTree::build(*now, {});
  t.add_base(*base);
  std::map<std::string, int64_t> base_of;
  for (uint32_t i = 0; i < t.nodes().size(); ++i) base_of[t.frames()[t.nodes()[i].frame].name] = t.base_total(i);
  EXPECT_EQ(base_of, (std::map<std::string, int64_t>{{"all", 10}, {"a", 10}, {"b", 1}, {"c", 0}}));
}

}  // namespace
}  // namespace goperf::flamegraph

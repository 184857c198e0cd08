// SvgWriter: every frame's width is its share of the total, to the pixel; layout order, merging and diff.
#include "flamegraph/svg_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "flamegraph/folded_reader.h"

namespace goperf::flamegraph {
namespace {

struct Rect {
  double x, y, width;
  std::string fill;
};

struct Parsed {
  std::vector<Rect> rects;
  std::vector<std::string> names;
  std::vector<int64_t> n, d, x, v, k;
};

std::vector<int64_t> parse_array(const std::string& svg, const std::string& key) {
  const std::string start = "\n" + key + ":[";
  size_t p = svg.find(start);
  EXPECT_NE(p, std::string::npos) << key;
  p += start.size();
  size_t e = svg.find(']', p);
  std::vector<int64_t> out;
  std::string body = svg.substr(p, e - p);
  size_t i = 0;
  while (i < body.size()) {
    size_t c = body.find(',', i);
    if (c == std::string::npos) c = body.size();
    out.push_back(std::stoll(body.substr(i, c - i)));
    i = c + 1;
  }
  return out;
}

Parsed parse(const std::string& svg) {
  Parsed p;
  size_t g = svg.find("<g id=\"frames\">");
  size_t ge = svg.find("</g>", g);
  std::string frames = svg.substr(g, ge - g);
  std::regex rect_re(R"re(<rect x="([0-9.]+)" y="([0-9]+)" width="([0-9.]+)" height="15" fill="(#[0-9a-f]{6})")re");
  for (auto it = std::sregex_iterator(frames.begin(), frames.end(), rect_re); it != std::sregex_iterator(); ++it) {
    p.rects.push_back({std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), (*it)[4]});
  }
  size_t ns = svg.find("\nnames:[") + 8;
  size_t ne = svg.find("],\nn:[", ns);
  std::string names = svg.substr(ns, ne - ns);
  std::regex str_re(R"re("((?:[^"\\]|\\.)*)")re");
  for (auto it = std::sregex_iterator(names.begin(), names.end(), str_re); it != std::sregex_iterator(); ++it) {
    p.names.push_back((*it)[1]);
  }
  p.n = parse_array(svg, "n");
  p.d = parse_array(svg, "d");
  p.x = parse_array(svg, "x");
  p.v = parse_array(svg, "v");
  p.k = parse_array(svg, "k");
  return p;
}

std::string render(const std::string& folded, SvgOptions o = {}) {
  auto profile = parse_folded(folded);
  EXPECT_TRUE(profile.ok());
  std::string out;
  EXPECT_TRUE(SvgWriter(o).write(*profile, out).ok());
  return out;
}

TEST(SvgWriterTest, EveryFrameWidthIsItsShareToThePixel) {
  const std::string folded =
      "main.main;main.a;main.b 30\n"
      "main.main;main.a;main.c 10\n"
      "main.main;main.d 60\n"
      "runtime.mcall;runtime.schedule 100\n";
  Parsed p = parse(render(folded));
  ASSERT_EQ(p.rects.size(), 8u);  // all, main.main, main.a, main.b, main.c, main.d, runtime.mcall, .schedule
  ASSERT_EQ(p.n.size(), p.rects.size());
  const double avail = 1200 - 2 * kSvgPadX;
  // Expected: name -> (depth, samples, x in samples) with children in name order.
  std::map<std::string, std::tuple<int, int, int>> want = {
      {"all", {0, 200, 0}},        {"main.main", {1, 100, 0}},      {"main.a", {2, 40, 0}},
      {"main.b", {3, 30, 0}},      {"main.c", {3, 10, 30}},         {"main.d", {2, 60, 40}},
      {"runtime.mcall", {1, 100, 100}}, {"runtime.schedule", {2, 100, 100}}};
  std::map<std::string, int> seen;
  for (size_t i = 0; i < p.rects.size(); ++i) {
    const std::string& name = p.names[p.n[i]];
    seen[name]++;
    // The width drawn is the frame's share of the total, to the pixel (and to 0.01 px).
    EXPECT_NEAR(p.rects[i].width, avail * static_cast<double>(p.v[i]) / 200.0, 0.006) << name;
    EXPECT_NEAR(p.rects[i].x, kSvgPadX + avail * static_cast<double>(p.x[i]) / 200.0, 0.006) << name;
    auto w = want.find(name);
    if (w == want.end()) continue;
    auto [depth, samples, x] = w->second;
    EXPECT_EQ(p.d[i], depth) << name;
    EXPECT_EQ(p.v[i], samples) << name;
    EXPECT_EQ(p.x[i], x) << name;
    EXPECT_NEAR(p.rects[i].width, avail * samples / 200.0, 0.006) << name;
  }
  EXPECT_EQ(seen.size(), 8u);
  // Not inverted: the root is the bottom row, callees above it.
  EXPECT_GT(p.rects[0].y, p.rects[1].y);
}

TEST(SvgWriterTest, InvertedPutsTheRootOnTop) {
  SvgOptions o;
  o.inverted = true;
  Parsed p = parse(render("a;b 1\n", o));
  ASSERT_EQ(p.rects.size(), 3u);
  EXPECT_LT(p.rects[0].y, p.rects[1].y);
  EXPECT_LT(p.rects[1].y, p.rects[2].y);
}

TEST(SvgWriterTest, ReverseStartsFromTheLeaf) {
  SvgOptions o;
  o.tree.reverse = true;
  Parsed p = parse(render("a;b 1\nc;b 1\n", o));
  ASSERT_EQ(p.rects.size(), 4u);  // all, b, a, c
  EXPECT_EQ(p.names[p.n[1]], "b");
  EXPECT_EQ(p.v[1], 2);
}

TEST(SvgWriterTest, NarrowFramesAreMergedSoWidthsStillAddUp) {
  std::string folded = "root;big 100000\n";
  for (int i = 0; i < 500; ++i) folded += "root;small" + std::to_string(1000 + i) + " 1\n";
  SvgOptions o;
  o.min_width = 0.5;
  Parsed p = parse(render(folded, o));
  // all, root, big, and one box for the 500 small frames (each 0.0118 px, together 5.9 px).
  ASSERT_EQ(p.rects.size(), 4u);
  int merged = -1;
  for (size_t i = 0; i < p.k.size(); ++i) {
    if (p.k[i] & 16) merged = static_cast<int>(i);
  }
  ASSERT_GE(merged, 0);
  EXPECT_EQ(p.v[merged], 500);
  EXPECT_NE(p.names[p.n[merged]].find("500 frames"), std::string::npos);
}

TEST(SvgWriterTest, GoAwarePaletteAndInlinedMark) {
  Parsed p = parse(render("runtime.goexit;main.main;main.work;main.helper_[i];fmt.Sprintf;runtime.mallocgc 5\n"));
  std::map<std::string, std::string> fill;
  std::map<std::string, int64_t> kind;
  for (size_t i = 0; i < p.rects.size(); ++i) {
    fill[p.names[p.n[i]]] = p.rects[i].fill;
    kind[p.names[p.n[i]]] = p.k[i];
  }
  EXPECT_EQ(kind["main.main"] & 7, static_cast<int>(FrameKind::kProgram));
  EXPECT_EQ(kind["fmt.Sprintf"] & 7, static_cast<int>(FrameKind::kStdlib));
  EXPECT_EQ(kind["runtime.mallocgc"] & 7, static_cast<int>(FrameKind::kRuntime));
  EXPECT_TRUE(kind["main.helper"] & 8);  // inlined
  EXPECT_FALSE(kind["main.work"] & 8);
  EXPECT_NE(fill["main.main"], fill["runtime.mallocgc"]);
}

TEST(SvgWriterTest, DiffColoursGrowthRedAndShrinkBlue) {
  auto base = parse_folded("main;grow 10\nmain;shrink 90\n");
  auto now = parse_folded("main;grow 60\nmain;shrink 40\n");
  ASSERT_TRUE(base.ok() && now.ok());
  SvgOptions o;
  o.base = &*base;
  std::string out;
  ASSERT_TRUE(SvgWriter(o).write(*now, out).ok());
  Parsed p = parse(out);
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < p.rects.size(); ++i) at[p.names[p.n[i]]] = i;
  const std::string g = p.rects[at["grow"]].fill, s = p.rects[at["shrink"]].fill;
  EXPECT_EQ(g.substr(1, 2), "ff");  // red channel full
  EXPECT_EQ(s.substr(5, 2), "ff");  // blue channel full
  EXPECT_NE(g.substr(5, 2), "ff");
  EXPECT_NE(s.substr(1, 2), "ff");
  // Widths from the new profile.
  EXPECT_EQ(p.v[at["grow"]], 60);
  EXPECT_NE(out.find("\nb:[100,100,10,90]"), std::string::npos);
}

TEST(SvgWriterTest, NamesAreEscapedInMarkupAndScript) {
  std::string out = render("main.f[go.shape.int];<script>&\"]]> 5\n");
  EXPECT_EQ(out.find("<script>&"), std::string::npos);
  EXPECT_EQ(out.find("]]>\""), std::string::npos);
  EXPECT_NE(out.find("&lt;script&gt;&amp;"), std::string::npos);
}

}  // namespace
}  // namespace goperf::flamegraph

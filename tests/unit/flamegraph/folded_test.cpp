// Folded reader and writer: folded -> folded reproduces its input byte for byte; malformed lines are errors.
#include <gtest/gtest.h>

#include "flamegraph/folded_reader.h"
#include "flamegraph/folded_writer.h"

namespace goperf::flamegraph {
namespace {

std::string refold(const std::string& in, FoldedWriter::Options o = {}) {
  auto p = parse_folded(in);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  std::string out;
  EXPECT_TRUE(FoldedWriter(o).write(*p, out).ok());
  return out;
}

TEST(FoldedTest, RoundTripsExactly) {
  const std::string in =
      "runtime.goexit;main.main;main.work;main.helper_[i];runtime.mallocgc 17\n"
      "main.main;syscall.Syscall;entry_SYSCALL_64_[k];do_syscall_64_[k] 3\n"
      "z.last;a.first 1\n"
      "main.main 42\n"
      "[unknown];0x4a5b6c;main.(*T).Method;main.F[go.shape.int] 9000000000\n";
  EXPECT_EQ(refold(in), in);
}

TEST(FoldedTest, SumsRepeatedStacksAndAcceptsFlamegraphPlVariants) {
  EXPECT_EQ(refold("a;b 1\n\na;c 2\r\na;b   4\nx 2.6\n"), "a;b 5\na;c 2\nx 3\n");
}

TEST(FoldedTest, InlinedFramesBecomeOneLocation) {
  auto p = parse_folded("main.main;main.work;main.helper_[i] 5\n");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->samples.size(), 1u);
  ASSERT_EQ(p->samples[0].locations.size(), 2u);
  const Location& leaf = p->locations[p->samples[0].locations[0]];
  ASSERT_EQ(leaf.lines.size(), 2u);
  EXPECT_EQ(p->functions[leaf.lines[0].function].name, "main.helper");
  EXPECT_EQ(p->functions[leaf.lines[1].function].name, "main.work");
}

TEST(FoldedTest, ReverseWritesLeafFirst) {
  FoldedWriter::Options o;
  o.tree.reverse = true;
  EXPECT_EQ(refold("a;b;c 1\n", o), "c;b;a 1\n");
}

TEST(FoldedTest, RejectsWhatIsNotFolded) {
  EXPECT_FALSE(parse_folded("").ok());
  EXPECT_FALSE(parse_folded("\n\n").ok());
  auto r = parse_folded("a;b 1\nthis line has no count\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(looks_folded("hello world\n"));
  EXPECT_TRUE(looks_folded("\n a;b 3\n"));
}

}  // namespace
}  // namespace goperf::flamegraph

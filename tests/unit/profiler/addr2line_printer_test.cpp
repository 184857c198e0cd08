// GnuAddr2linePrinter and parse_gnu_address: binutils addr2line's output shapes and address syntax
// (the expected strings are binutils 2.40's output on a C program with an inlined chain leaf<-mid<-top).
#include "profiler/addr2line/addr2line_printer.h"

#include <gtest/gtest.h>

#include <vector>

#include "profiler/options/addr2line_options.h"

namespace goperf::profiler {
namespace {

using symbolize::Frame;

std::vector<Frame> chain() {
  Frame leaf{.pc = 0x1161, .entry = 0x1150, .function = "leaf", .file = "/tmp/t.c", .line = 2, .inlined = true, .is_go = true};
  Frame mid{.pc = 0x1161, .entry = 0x1150, .function = "mid", .file = "/tmp/t.c", .line = 3, .inlined = true, .is_go = true};
  Frame top{.pc = 0x1161, .entry = 0x1150, .function = "top", .file = "/tmp/t.c", .line = 4, .is_go = true};
  return {leaf, mid, top};
}

std::string print(GnuAddr2linePrinter::Config c, const std::vector<Frame>& frames, uint64_t addr = 0x1161) {
  std::string out;
  GnuAddr2linePrinter(c).print(addr, frames, out);
  return out;
}

TEST(GnuAddr2linePrinter, FileLineOnly) {
  EXPECT_EQ(print({}, chain()), "/tmp/t.c:2\n");
  EXPECT_EQ(print({.inlines = true}, chain()), "/tmp/t.c:2\n/tmp/t.c:3\n/tmp/t.c:4\n");
}

TEST(GnuAddr2linePrinter, FunctionsNameTheInnermostWithoutInlines) {
  EXPECT_EQ(print({.functions = true}, chain()), "leaf\n/tmp/t.c:2\n");
  EXPECT_EQ(print({.functions = true, .inlines = true}, chain()), "leaf\n/tmp/t.c:2\nmid\n/tmp/t.c:3\ntop\n/tmp/t.c:4\n");
}

TEST(GnuAddr2linePrinter, AddressesAndPrettyPrint) {
  EXPECT_EQ(print({.addresses = true, .functions = true, .inlines = true, .pretty = true}, chain()),
            "0x0000000000001161: leaf at /tmp/t.c:2\n (inlined by) mid at /tmp/t.c:3\n (inlined by) top at /tmp/t.c:4\n");
  EXPECT_EQ(print({.addresses = true}, chain()), "0x0000000000001161\n/tmp/t.c:2\n");
  EXPECT_EQ(print({.inlines = true, .pretty = true}, chain()), "/tmp/t.c:2\n (inlined by) /tmp/t.c:3\n (inlined by) /tmp/t.c:4\n");
  EXPECT_EQ(print({.functions = true, .inlines = true, .basenames = true}, chain()), "leaf\nt.c:2\nmid\nt.c:3\ntop\nt.c:4\n");
}

TEST(GnuAddr2linePrinter, Unknown) {
  EXPECT_EQ(print({.functions = true}, {}), "??\n??:0\n");
  EXPECT_EQ(print({.addresses = true, .functions = true, .pretty = true}, {Frame{}}, 0x999999),
            "0x0000000000999999: ?? ??:0\n");
  EXPECT_EQ(print({.addresses = true}, {}), "0x0000000000001161\n??:0\n");
}

TEST(GnuAddr2linePrinter, NativeSymbolWithoutLine) {
  Frame f{.pc = 0x1150, .entry = 0x1150, .function = "_ZN2ns3fooEi"};
  EXPECT_EQ(print({.functions = true}, {f}), "_ZN2ns3fooEi\n??:?\n");
  EXPECT_EQ(print({.functions = true, .pretty = true, .demangle = true}, {f}), "ns::foo(int) at ??:?\n");
  // Go names are never demangled.
  Frame g{.function = "_Zgo", .file = "x.go", .line = 1, .is_go = true};
  EXPECT_EQ(print({.functions = true, .demangle = true}, {g}), "_Zgo\nx.go:1\n");
}

TEST(JsonAddr2linePrinter, EveryLevelAndUnknown) {
  std::string out;
  JsonAddr2linePrinter(true, false).print(0x1161, chain(), out);
  JsonAddr2linePrinter(false, false).print(0x10, {}, out);
  EXPECT_EQ(out,
            "{\"address\":\"0x1161\",\"frames\":["
            "{\"function\":\"leaf\",\"file\":\"t.c\",\"line\":2,\"start_line\":0,\"entry\":\"0x1150\",\"inlined\":true,\"go\":true},"
            "{\"function\":\"mid\",\"file\":\"t.c\",\"line\":3,\"start_line\":0,\"entry\":\"0x1150\",\"inlined\":true,\"go\":true},"
            "{\"function\":\"top\",\"file\":\"t.c\",\"line\":4,\"start_line\":0,\"entry\":\"0x1150\",\"inlined\":false,\"go\":true}]}\n"
            "{\"address\":\"0x10\",\"frames\":[]}\n");
}

TEST(ParseGnuAddress, AsBinutilsReadsIt) {
  EXPECT_EQ(parse_gnu_address("0x1161"), 0x1161u);
  EXPECT_EQ(parse_gnu_address("1161"), 0x1161u);
  EXPECT_EQ(parse_gnu_address("0X1161"), 0x1161u);
  EXPECT_EQ(parse_gnu_address(" \t1161"), 0x1161u);
  EXPECT_EQ(parse_gnu_address("1161g"), 0x1161u);
  EXPECT_EQ(parse_gnu_address("zz"), 0u);
  EXPECT_EQ(parse_gnu_address(""), 0u);
  EXPECT_EQ(parse_gnu_address("-5"), 0u);
  EXPECT_EQ(parse_gnu_address("ffffffffffffffff"), ~0ull);
}

// parse_gnu_address_lines reads a whole text without cutting it into lines first: it must give what
// parse_gnu_address gives line by line, whatever follows the digits.
TEST(ParseGnuAddress, LinesEqualOneLineAtATime) {
  for (std::string_view text : {"0x1161\n1161\n0X1161\n \t1161\n1161g\nzz\n\n-5\nffffffffffffffff\n",
                                "0\nx5\n0x\n0\n", "  0x2f junk 0x30\n\t\n7", "", "\n", "0x", "12 \n 34"}) {
    SCOPED_TRACE(::testing::Message() << '"' << text << '"');
    std::vector<uint64_t> want;
    for (size_t at = 0; at < text.size();) {
      size_t nl = text.find('\n', at);
      size_t len = nl == std::string_view::npos ? text.size() - at : nl - at;
      want.push_back(parse_gnu_address(text.substr(at, len)));
      at += len + 1;
    }
    std::vector<uint64_t> got = {42};  // appended to, not overwritten
    parse_gnu_address_lines(text, got);
    want.insert(want.begin(), 42);
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace goperf::profiler

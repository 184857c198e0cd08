// The measured layout tables must equal the fixtures written by scripts/measure_layouts.sh from the
// DWARF of real toolchain builds (tests/fixtures/layouts/go1.XX.json).
#include "unwind/go_runtime_layout.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace goperf::unwind {
namespace {

// Just enough JSON reading for the fixture's fixed shape (written by encoding/json with indentation).
struct Fixture {
  std::map<std::string, std::map<std::string, int64_t>> fields;  // struct -> field -> offset
  std::map<std::string, int64_t> sizes;
  std::vector<std::string> wait_reasons;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quoted_after(const std::string& s, size_t& pos) {
  size_t a = s.find('"', pos), b = a;
  std::string out;
  for (b = a + 1; b < s.size() && s[b] != '"'; ++b) {
    if (s[b] == '\\') ++b;
    out += s[b];
  }
  pos = b + 1;
  return out;
}

int64_t number_after(const std::string& s, const std::string& key, size_t& pos) {
  pos = s.find("\"" + key + "\":", pos) + key.size() + 3;
  return std::stoll(s.substr(pos, 24));
}

Fixture load(const std::string& path) {
  Fixture f;
  std::string s = read_file(path);
  size_t structs = s.find("\"structs\"");
  size_t waits = s.find("\"wait_reasons\"");
  size_t pos = structs;
  while (true) {
    size_t name_at = s.find("\"runtime.", pos);
    if (name_at == std::string::npos || name_at > waits) break;
    size_t p = name_at;
    std::string name = quoted_after(s, p);
    f.sizes[name] = number_after(s, "size", p);
    size_t end = s.find(']', p);
    while (true) {
      size_t q = s.find("\"name\":", p);
      if (q == std::string::npos || q > end) break;
      p = q + 7;
      std::string field = quoted_after(s, p);
      f.fields[name][field] = number_after(s, "offset", p);
    }
    pos = end;
  }
  size_t p = s.find('[', waits), end = s.find(']', p);
  while (true) {
    size_t q = s.find('"', p);
    if (q == std::string::npos || q > end) break;
    p = q;
    f.wait_reasons.push_back(quoted_after(s, p));
  }
  return f;
}

// Fields the runtime of a version does not have (the tables hold 0 for them). Any other field missing
// from a fixture is an error: a fixture that lost a field must not pass as "offset 0".
bool absent_in_version(const std::string& field, int minor) {
  if (field == "syscallbp") return minor < 23;   // g.syscallbp: Go 1.23+
  if (field == "parentGoid") return minor < 21;  // g.parentGoid: Go 1.21+
  return false;
}

int g_minor = 0;  // the version of the fixture being compared (set by each test)

void expect_offset(const Fixture& f, const std::string& st, const std::string& field, uint32_t table_value) {
  auto it = f.fields.at(st).find(field);
  if (it == f.fields.at(st).end()) {
    EXPECT_TRUE(absent_in_version(field, g_minor)) << st << "." << field << " is missing from the Go 1." << g_minor
                                                   << " fixture but present in that release";
    EXPECT_EQ(table_value, 0u) << st << "." << field << " (absent in Go 1." << g_minor << ")";
    return;
  }
  EXPECT_EQ(table_value, it->second) << st << "." << field;
}

class MeasuredLayout : public ::testing::TestWithParam<std::pair<int, std::string>> {};

TEST_P(MeasuredLayout, TablesEqualFixture) {
  auto [minor, file] = GetParam();
  g_minor = minor;
  Fixture f = load(std::string(GOPERF_SOURCE_DIR) + "/tests/fixtures/layouts/" + file);
  ASSERT_FALSE(f.fields["runtime.g"].empty()) << file;
  LayoutChoice c = layout_for_go_minor(minor);
  ASSERT_TRUE(c.exact_version);
  const GoRuntimeLayout& l = *c.layout;
  EXPECT_TRUE(l.measured);
  EXPECT_EQ(l.go_minor, minor);
  const std::string g = "runtime.g", m = "runtime.m", md = "runtime.moduledata";
  EXPECT_EQ(l.g.size, f.sizes.at(g));
  expect_offset(f, g, "stack.lo", l.g.stack_lo);
  expect_offset(f, g, "stack.hi", l.g.stack_hi);
  expect_offset(f, g, "m", l.g.m);
  expect_offset(f, g, "sched", l.g.sched);
  expect_offset(f, g, "sched.sp", l.g.sched_sp);
  expect_offset(f, g, "sched.pc", l.g.sched_pc);
  expect_offset(f, g, "sched.g", l.g.sched_g);
  expect_offset(f, g, "sched.ctxt", l.g.sched_ctxt);
  expect_offset(f, g, "sched.lr", l.g.sched_lr);
  expect_offset(f, g, "sched.bp", l.g.sched_bp);
  expect_offset(f, g, "syscallsp", l.g.syscallsp);
  expect_offset(f, g, "syscallpc", l.g.syscallpc);
  expect_offset(f, g, "syscallbp", l.g.syscallbp);
  expect_offset(f, g, "stktopsp", l.g.stktopsp);
  expect_offset(f, g, "atomicstatus", l.g.atomicstatus);
  expect_offset(f, g, "goid", l.g.goid);
  expect_offset(f, g, "waitsince", l.g.waitsince);
  expect_offset(f, g, "waitreason", l.g.waitreason);
  expect_offset(f, g, "lockedm", l.g.lockedm);
  expect_offset(f, g, "parentGoid", l.g.parent_goid);
  expect_offset(f, g, "gopc", l.g.gopc);
  expect_offset(f, g, "ancestors", l.g.ancestors);
  expect_offset(f, g, "startpc", l.g.startpc);
  expect_offset(f, g, "labels", l.g.labels);

  EXPECT_EQ(l.m.size, f.sizes.at(m));
  expect_offset(f, m, "g0", l.m.g0);
  expect_offset(f, m, "procid", l.m.procid);
  expect_offset(f, m, "gsignal", l.m.gsignal);
  expect_offset(f, m, "curg", l.m.curg);
  expect_offset(f, m, "caughtsig", l.m.caughtsig);
  expect_offset(f, m, "p", l.m.p);
  expect_offset(f, m, "id", l.m.id);
  expect_offset(f, m, "throwing", l.m.throwing);
  expect_offset(f, m, "alllink", l.m.alllink);
  expect_offset(f, m, "libcallpc", l.m.libcallpc);
  expect_offset(f, m, "libcallsp", l.m.libcallsp);
  expect_offset(f, m, "libcallg", l.m.libcallg);
  expect_offset(f, m, "vdsoSP", l.m.vdso_sp);
  expect_offset(f, m, "vdsoPC", l.m.vdso_pc);

  EXPECT_EQ(l.moduledata.size, f.sizes.at(md));
  for (auto [name, value] : std::vector<std::pair<std::string, uint32_t>>{
           {"pcHeader", l.moduledata.pc_header}, {"funcnametab", l.moduledata.funcnametab},
           {"ftab", l.moduledata.ftab}, {"findfunctab", l.moduledata.findfunctab}, {"minpc", l.moduledata.minpc},
           {"maxpc", l.moduledata.maxpc}, {"text", l.moduledata.text}, {"etext", l.moduledata.etext},
           {"noptrdata", l.moduledata.noptrdata}, {"enoptrdata", l.moduledata.enoptrdata},
           {"data", l.moduledata.data}, {"edata", l.moduledata.edata}, {"bss", l.moduledata.bss},
           {"ebss", l.moduledata.ebss}, {"noptrbss", l.moduledata.noptrbss},
           {"enoptrbss", l.moduledata.enoptrbss}, {"end", l.moduledata.end}, {"gofunc", l.moduledata.gofunc},
           {"textsectmap", l.moduledata.textsectmap}, {"modulename", l.moduledata.modulename},
           {"next", l.moduledata.next}}) {
    expect_offset(f, md, name, value);
  }
  // at(): a struct missing from the fixture is an error, not size 0.
  EXPECT_EQ(l.gobuf_size, f.sizes.at("runtime.gobuf"));
  EXPECT_EQ(l.func_size, f.sizes.at("runtime._func"));
  EXPECT_EQ(l.inlined_call_size, f.sizes.at("runtime.inlinedCall"));

  ASSERT_EQ(l.wait_reasons.size(), f.wait_reasons.size());
  for (size_t i = 0; i < f.wait_reasons.size(); ++i) EXPECT_EQ(l.wait_reasons[i], f.wait_reasons[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Toolchains, MeasuredLayout,
                         ::testing::Values(std::pair<int, std::string>{19, "go1.19.json"},
                                           std::pair<int, std::string>{26, "go1.26.json"},
                                           std::pair<int, std::string>{27, "go1.27.3.json"}));

TEST(GoRuntimeLayout, EveryMinorHasALayoutAndOutOfRangeIsFlagged) {
  for (int minor = 19; minor <= 27; ++minor) {
    LayoutChoice c = layout_for_go_minor(minor);
    EXPECT_TRUE(c.exact_version);
    EXPECT_EQ(c.layout->go_minor, minor);
    // Only the versions with a fixture are measured; the others are derived, and say so wherever shown.
    const bool measured = minor == 19 || minor == 26 || minor == 27;
    EXPECT_EQ(c.layout->measured, measured) << minor;
    EXPECT_EQ(layout_note(c, minor, true).empty(), measured) << minor;
    if (!measured) {
      EXPECT_NE(layout_note(c, minor, true).find("derived"), std::string::npos);
    }
    // Sanity of derived tables: the fields the lister reads are all set and ordered as in runtime2.go.
    const GLayout& g = c.layout->g;
    EXPECT_LT(g.sched_bp, g.syscallsp);
    EXPECT_LT(g.atomicstatus, g.goid);
    EXPECT_LT(g.goid, g.waitsince);
    EXPECT_LT(g.waitreason, g.lockedm);
    EXPECT_LT(g.gopc, g.startpc);
    EXPECT_LT(g.startpc, g.labels);
    EXPECT_EQ(g.parent_goid != 0, minor >= 21);
    EXPECT_EQ(g.syscallbp != 0, minor >= 23);
    EXPECT_GT(c.layout->m.curg, c.layout->m.procid);
    EXPECT_GT(c.layout->wait_reasons.size(), 20u);
  }
  EXPECT_FALSE(layout_for_go_minor(0).exact_version);
  EXPECT_EQ(layout_for_go_minor(0).layout->go_minor, 19);
  EXPECT_FALSE(layout_for_go_minor(31).exact_version);
  EXPECT_EQ(layout_for_go_minor(31).layout->go_minor, 27);
  EXPECT_EQ(layout_note(layout_for_go_minor(31), 31, true),
            "no runtime layout for Go 1.31: using the Go 1.27 runtime layout (measured), checked against its goroutines");
}

TEST(GoRuntimeLayout, StatusTextFollowsGoroutineheader) {
  EXPECT_EQ(g_status_string(kGrunning), "running");
  EXPECT_EQ(g_status_string(kGscan | kGrunnable), "runnable");
  EXPECT_EQ(g_status_text(kGwaiting, 14, "chan receive"), "chan receive");
  EXPECT_EQ(g_status_text(kGwaiting, 0, ""), "waiting");
  EXPECT_EQ(g_status_text(kGsyscall, 2, "IO wait"), "syscall");
}

}  // namespace
}  // namespace goperf::unwind

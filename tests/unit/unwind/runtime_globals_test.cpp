// runtime.allgs / allglen / allm located by disassembly must equal the addresses in the unstripped
// build's symbol table (the toolchain's `go tool nm` is the oracle), for every toolchain present, as
// exe, PIE and cgo (external link), stripped and not; wait reasons must equal the measured fixtures.
#include "unwind/runtime_globals.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "tests/unit/unwind/go_targets.h"
#include "unwind/go_runtime_layout.h"

namespace goperf::unwind {
namespace {

using testing::BuiltTarget;

// Addresses of runtime symbols by `go tool nm` of the toolchain that built the binary.
std::map<std::string, uint64_t> nm(const BuiltTarget& t) {
  std::string go = t.toolchain == "go1.19" ? "GOTOOLCHAIN=local /usr/lib/go-1.19/bin/go"
                   : t.toolchain == "go1.26" ? "GOTOOLCHAIN=local go"
                                             : "GOTOOLCHAIN=" + t.toolchain + " go";
  std::istringstream in(testing::run_command(go + " tool nm '" + t.path + "'"));
  std::map<std::string, uint64_t> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string addr, kind, name;
    if (!(l >> addr >> kind >> name)) continue;
    if (name == "runtime.allgs" || name == "runtime.allglen" || name == "runtime.allm" || name == "runtime.allgptr")
      out[name] = std::stoull(addr, nullptr, 16);
  }
  return out;
}

uint64_t same_place(const symbolize::Module& from, const symbolize::Module& to, uint64_t addr) {
  for (const auto& sec : from.elf().sections()) {
    if (sec.addr == 0 || addr < sec.addr || addr >= sec.addr + sec.size) continue;
    auto other = to.elf().find_section(sec.name);
    if (!other) break;
    return other->addr + (addr - sec.addr);
  }
  ADD_FAILURE() << "no section holds " << std::hex << addr;
  return addr;
}

// The globals found equal the symbol table's (allgptr only where the Go version has it).
void expect_oracle_globals(const RuntimeGlobals& found, std::map<std::string, uint64_t>& oracle) {
  EXPECT_EQ(found.allgs, oracle["runtime.allgs"]);
  EXPECT_EQ(found.allglen, oracle["runtime.allglen"]);
  EXPECT_EQ(found.allm, oracle["runtime.allm"]);
  if (found.allgptr) {
    EXPECT_EQ(found.allgptr, oracle["runtime.allgptr"]);
  }
}

const std::vector<BuiltTarget>& targets() {
  static std::vector<BuiltTarget> built = [] {
    std::string error;
    std::vector<std::tuple<bool, bool, bool>> variants;
    for (bool pie : {false, true})
      for (bool cgo : {false, true})
        for (bool stripped : {false, true}) variants.emplace_back(pie, cgo, stripped);
    auto t = testing::build_go_targets("layout_parked", variants, &error);
    if (t.empty()) ADD_FAILURE() << error;
    return t;
  }();
  return built;
}

TEST(RuntimeGlobals, DisassemblyMatchesSymbolTableForEveryToolchainAndVariant) {
  const auto& all = targets();
  ASSERT_GE(all.size(), 8u);
  std::map<std::string, const BuiltTarget*> unstripped;  // "toolchain pie cgo" -> unstripped twin
  for (const auto& t : all)
    if (!t.stripped) unstripped[t.toolchain + (t.pie ? " pie" : " exe") + (t.cgo ? " cgo" : "")] = &t;
  int checked = 0;
  for (const auto& t : all) {
    SCOPED_TRACE(t.toolchain + " " + t.variant);
    const BuiltTarget* twin = unstripped[t.toolchain + (t.pie ? " pie" : " exe") + (t.cgo ? " cgo" : "")];
    ASSERT_NE(twin, nullptr);
    auto oracle = nm(*twin);
    ASSERT_TRUE(oracle.count("runtime.allgs") && oracle.count("runtime.allglen") && oracle.count("runtime.allm"));
    auto module = symbolize::Module::open(t.path);
    ASSERT_TRUE(module) << module.error().message();
    auto twin_module = symbolize::Module::open(twin->path);
    ASSERT_TRUE(twin_module) << twin_module.error().message();
    // -s -w changes the build settings in .go.buildinfo, so an internally linked stripped build can
    // place its sections a few bytes apart from its twin: move each oracle address to the same
    // offset in the same-named section of the stripped file.
    for (auto& [name, addr] : oracle) addr = same_place(**twin_module, **module, addr);
    auto found = find_runtime_globals_without_symbols(**module);
    ASSERT_TRUE(found) << found.error().message();
    expect_oracle_globals(*found, oracle);
    // The alllink store in mcommoninit agrees with the measured layout of this toolchain.
    const symbolize::BuildInfo* bi = (*module)->build_info();
    ASSERT_NE(bi, nullptr);
    LayoutChoice layout = layout_for_go_minor(bi->minor_version());
    EXPECT_TRUE(layout.exact_version);
    EXPECT_EQ(found->m_alllink_offset, layout.layout->m.alllink);
    EXPECT_EQ(found->g_m_offset, layout.layout->g.m);
    EXPECT_EQ(found->m_curg_offset, layout.layout->m.curg);
    EXPECT_EQ(found->m_vdso_pc_offset, layout.layout->m.vdso_pc);
    EXPECT_EQ(found->m_vdso_sp_offset, layout.layout->m.vdso_sp);
    if (!t.stripped) {
      auto with_syms = find_runtime_globals(**module);
      ASSERT_TRUE(with_syms);
      EXPECT_EQ(with_syms->source, "symtab");
      EXPECT_EQ(with_syms->allgs, found->allgs);
    }
    // waitReasonStrings discovered in the binary equal the ones measured from this toolchain's build.
    auto reasons = find_wait_reasons((*module)->elf());
    ASSERT_GE(reasons.size(), layout.layout->wait_reasons.size());
    for (size_t i = 0; i < layout.layout->wait_reasons.size(); ++i)
      EXPECT_EQ(reasons[i], layout.layout->wait_reasons[i]) << i;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(all.size()));
}

TEST(RuntimeGlobals, DebianEtcd) {
  const char* path = "/usr/bin/etcd";
  auto module = symbolize::Module::open(path);
  if (!module) GTEST_SKIP() << path << " not installed";
  auto found = find_runtime_globals(**module);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(found->source, "disassembly");  // Debian strips it
  EXPECT_NE(found->allgs, 0u);
  EXPECT_NE(found->allglen, 0u);
  EXPECT_NE(found->allm, 0u);
  EXPECT_NE(found->allgs, found->allglen);
  // The Go 1.19 table's alllink is confirmed by etcd's own mcommoninit.
  EXPECT_EQ(found->m_alllink_offset, layout_for_go_minor((*module)->build_info()->minor_version()).layout->m.alllink);
  auto reasons = find_wait_reasons((*module)->elf());
  ASSERT_GE(reasons.size(), 27u);
  EXPECT_EQ(reasons[14], "chan receive");
}

TEST(RuntimeGlobals, NonGoFileIsAnError) {
  auto module = symbolize::Module::open("/bin/true");
  ASSERT_TRUE(module) << module.error().message();
  auto found = find_runtime_globals(**module);
  EXPECT_FALSE(found);
  EXPECT_TRUE(find_wait_reasons((*module)->elf()).empty());
}

// GOARCH=arm64 builds: the globals located by arm64 disassembly (ADRP + ADD/LDR/STLR), against the same
// oracle, for every toolchain present, exe and PIE, stripped and not.
TEST(RuntimeGlobalsArm64, DisassemblyMatchesSymbolTableForEveryToolchain) {
  std::string error;
  std::vector<std::tuple<bool, bool, bool>> variants;
  for (bool pie : {false, true})
    for (bool stripped : {false, true}) variants.emplace_back(pie, false, stripped);
  auto all = testing::build_go_targets("crash", variants, &error, "arm64");
  ASSERT_GE(all.size(), 4u) << error;
  for (const auto& t : all) {
    if (t.stripped) continue;  // the oracle needs the symbol table; the stripped twin is checked below
    SCOPED_TRACE(t.toolchain + " " + t.variant);
    auto oracle = nm(t);
    ASSERT_TRUE(oracle.count("runtime.allgs") && oracle.count("runtime.allglen") && oracle.count("runtime.allm"));
    auto module = symbolize::Module::open(t.path);
    ASSERT_TRUE(module) << module.error().message();
    auto found = find_runtime_globals_without_symbols(**module);
    ASSERT_TRUE(found) << found.error().message();
    expect_oracle_globals(*found, oracle);
    const symbolize::BuildInfo* bi = (*module)->build_info();
    ASSERT_NE(bi, nullptr);
    EXPECT_EQ(found->m_alllink_offset, layout_for_go_minor(bi->minor_version()).layout->m.alllink);
    // The stripped twin (-s -w): the same globals, each at the same offset in its same-named section.
    for (const auto& st : all) {
      if (!st.stripped || st.toolchain != t.toolchain || st.pie != t.pie) continue;
      auto stripped = symbolize::Module::open(st.path);
      ASSERT_TRUE(stripped);
      auto again = find_runtime_globals_without_symbols(**stripped);
      ASSERT_TRUE(again) << again.error().message();
      EXPECT_EQ(again->allgs, same_place(**module, **stripped, found->allgs));
      EXPECT_EQ(again->allglen, same_place(**module, **stripped, found->allglen));
      EXPECT_EQ(again->allm, same_place(**module, **stripped, found->allm));
    }
  }
}

}  // namespace
}  // namespace goperf::unwind

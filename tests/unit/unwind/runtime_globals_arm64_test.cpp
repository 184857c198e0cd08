// runtime.allgs / allglen / allm of GOARCH=arm64 builds located by arm64 disassembly (ADRP + ADD/LDR/STLR)
// must equal the addresses in the unstripped build's symbol table (`go tool nm` of the toolchain that
// built it), for every toolchain present, exe and PIE, stripped and not.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "tests/unit/unwind/go_targets.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/runtime_globals.h"

namespace goperf::unwind {
namespace {

using testing::BuiltTarget;

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

// addr in `from` moved to the same offset of the same-named section of `to`.
uint64_t same_place(const symbolize::Module& from, const symbolize::Module& to, uint64_t addr) {
  for (const auto& sec : from.elf().sections()) {
    if (sec.addr == 0 || addr < sec.addr || addr >= sec.addr + sec.size) continue;
    if (auto other = to.elf().find_section(sec.name)) return other->addr + (addr - sec.addr);
  }
  return addr;
}

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
    EXPECT_EQ(found->allgs, oracle["runtime.allgs"]);
    EXPECT_EQ(found->allglen, oracle["runtime.allglen"]);
    EXPECT_EQ(found->allm, oracle["runtime.allm"]);
    if (found->allgptr) {
      EXPECT_EQ(found->allgptr, oracle["runtime.allgptr"]);
    }
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

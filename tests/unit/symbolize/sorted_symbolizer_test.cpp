// symbolize_batch (SortedSymbolizer and FuncLineTable under it) against Module::symbolize one pc at a time: the same
// frames, field by field, for pcs all over real binaries (Debian's etcd and the callers_frames target
// of every toolchain), in random order with repeats, pcs outside Go text, and return addresses.
// Module::symbolize itself is checked against go tool addr2line and runtime.CallersFrames elsewhere.
#include "symbolize/sorted_symbolizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "tests/unit/symbolize/go_targets.h"

namespace goperf::symbolize {
namespace {

void expect_same_frames(const Module& mod, const std::vector<uint64_t>& pcs, bool is_return_address) {
  SymbolizedBatch batch;
  symbolize_batch(mod, pcs, is_return_address, batch);
  ASSERT_EQ(batch.ranges.size(), pcs.size());
  std::vector<Frame> want;
  size_t inlined = 0;
  for (size_t i = 0; i < pcs.size(); ++i) {
    want.clear();
    mod.symbolize(pcs[i], is_return_address, want);
    auto got = batch.at(i);
    ASSERT_EQ(got.size(), want.size()) << std::hex << "pc 0x" << pcs[i];
    for (size_t j = 0; j < want.size(); ++j) {
      SCOPED_TRACE(::testing::Message() << std::hex << "pc 0x" << pcs[i] << " frame " << j);
      EXPECT_EQ(got[j].pc, want[j].pc);
      EXPECT_EQ(got[j].entry, want[j].entry);
      EXPECT_EQ(got[j].function, want[j].function);
      EXPECT_EQ(got[j].file, want[j].file);
      EXPECT_EQ(got[j].line, want[j].line);
      EXPECT_EQ(got[j].start_line, want[j].start_line);
      EXPECT_EQ(got[j].inlined, want[j].inlined);
      EXPECT_EQ(got[j].is_go, want[j].is_go);
      inlined += got[j].inlined;
    }
  }
  EXPECT_GT(inlined, 0u) << "no inlined frame among the pcs: the inline path was not exercised";
}

// same_frames_as_last, when it says so, must be right: over ascending pcs, the frames of each pc it
// claims equal (but for pc) those of the last pc symbolized. Returns how many it claimed.
size_t expect_same_frames_as_last_is_right(const Module& mod, std::vector<uint64_t> pcs) {
  std::sort(pcs.begin(), pcs.end());
  SortedSymbolizer symbolizer(mod);
  std::vector<Frame> last, now;
  size_t claimed = 0;
  for (uint64_t pc : pcs) {
    now.clear();
    mod.symbolize(pc, false, now);
    if (symbolizer.same_frames_as_last(pc, false)) {
      ++claimed;
      EXPECT_EQ(now.size(), last.size()) << std::hex << "pc 0x" << pc;
      if (now.size() != last.size()) return claimed;
      for (size_t j = 0; j < now.size(); ++j) {
        SCOPED_TRACE(::testing::Message() << std::hex << "pc 0x" << pc << " frame " << j);
        EXPECT_EQ(now[j].function, last[j].function);
        EXPECT_EQ(now[j].file, last[j].file);
        EXPECT_EQ(now[j].line, last[j].line);
        EXPECT_EQ(now[j].entry, last[j].entry);
        EXPECT_EQ(now[j].inlined, last[j].inlined);
      }
      continue;
    }
    last.clear();
    symbolizer.symbolize(pc, false, last);
  }
  return claimed;
}

// Every function entry, `random` pcs anywhere in Go text, a few pcs outside it, each twice, shuffled.
std::vector<uint64_t> test_pcs(const Pclntab& tab, size_t random) {
  std::vector<uint64_t> pcs = {0, 1, tab.text_start() - 1};
  std::mt19937_64 rnd(7);
  FuncInfo last = tab.func_at(tab.func_count() - 1);
  for (size_t i = 0; i < tab.func_count(); ++i) pcs.push_back(tab.func_at(i).entry);
  for (size_t i = 0; i < random; ++i) pcs.push_back(tab.text_start() + rnd() % (last.end - tab.text_start() + 16));
  size_t n = pcs.size();
  for (size_t i = 0; i < n; i += 3) pcs.push_back(pcs[i]);
  std::shuffle(pcs.begin(), pcs.end(), rnd);
  return pcs;
}

TEST(SymbolizeBatch, EtcdEqualsOnePcAtATime) {
  constexpr const char* kEtcd = "/usr/bin/etcd";
  if (!std::filesystem::exists(kEtcd)) GTEST_SKIP() << kEtcd << " not installed (scripts/setup installs etcd-server)";
  auto mod = Module::open(kEtcd);
  ASSERT_TRUE(mod) << mod.error().message();
  ASSERT_NE((*mod)->pclntab(), nullptr);
  auto pcs = test_pcs(*(*mod)->pclntab(), 40000);
  expect_same_frames(**mod, pcs, false);
  expect_same_frames(**mod, pcs, true);
}

TEST(SortedSymbolizer, EtcdSameFramesAsLastIsRight) {
  constexpr const char* kEtcd = "/usr/bin/etcd";
  if (!std::filesystem::exists(kEtcd)) GTEST_SKIP() << kEtcd << " not installed (scripts/setup installs etcd-server)";
  auto mod = Module::open(kEtcd);
  ASSERT_TRUE(mod) << mod.error().message();
  const Pclntab* tab = (*mod)->pclntab();
  ASSERT_NE(tab, nullptr);
  // Every pc of 300 functions spread over the binary, and random pcs: neighbours mostly share a row.
  auto pcs = test_pcs(*tab, 40000);
  for (size_t i = 0; i < tab->func_count(); i += tab->func_count() / 300) {
    FuncInfo f = tab->func_at(i);
    for (uint64_t pc = f.entry; pc < f.end; ++pc) pcs.push_back(pc);
  }
  size_t claimed = expect_same_frames_as_last_is_right(**mod, pcs);
  EXPECT_GT(claimed, pcs.size() / 4) << "same_frames_as_last is almost never true: the shortcut is not exercised";
}

class SymbolizeBatchTargets : public ::testing::TestWithParam<std::string> {};

TEST_P(SymbolizeBatchTargets, EveryPcEqualsOnePcAtATime) {
  const testing::Toolchain* tc = testing::find_toolchain(GetParam());
  if (!tc) GTEST_SKIP() << GetParam() << " is not installed";
  for (testing::Variant v : {testing::Variant{.pie = false, .cgo = false}, testing::Variant{.pie = true, .cgo = true}}) {
    SCOPED_TRACE(v.name());
    std::string bin = testing::build_target("callers_frames", *tc, v);
    ASSERT_FALSE(bin.empty());
    auto mod = Module::open(bin);
    ASSERT_TRUE(mod) << mod.error().message();
    const Pclntab* tab = (*mod)->pclntab();
    ASSERT_NE(tab, nullptr);
    // Every pc of main's functions (all inlining happens there and in the runtime), random pcs elsewhere.
    auto pcs = test_pcs(*tab, 20000);
    for (size_t i = 0; i < tab->func_count(); ++i) {
      FuncInfo f = tab->func_at(i);
      if (f.name.starts_with("main."))
        for (uint64_t pc = f.entry; pc < f.end; ++pc) pcs.push_back(pc);
    }
    expect_same_frames(**mod, pcs, false);
    EXPECT_GT(expect_same_frames_as_last_is_right(**mod, pcs), pcs.size() / 4);
  }
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, SymbolizeBatchTargets, ::testing::Values("go1.19", "go1.26", "go1.27.3"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

}  // namespace
}  // namespace goperf::symbolize

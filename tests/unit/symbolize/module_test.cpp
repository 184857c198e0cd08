// Module: Debian's etcd (stripped, cgo-linked, Go 1.19: Go text does not start at .text), native
// symbols of a cgo build against nm, and lookups from several threads racing the lazy decoding.
#include "symbolize/module.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"
#include "tests/unit/symbolize/go_targets.h"

namespace goperf::symbolize {
namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";

TEST(ModuleEtcd, GoTextStartsAfterCCode) {
  if (!std::filesystem::exists(kEtcd)) GTEST_SKIP() << kEtcd << " not installed (scripts/setup installs etcd-server)";
  auto mod = Module::open(kEtcd);
  ASSERT_TRUE(mod) << mod.error().message();
  const Pclntab* tab = (*mod)->pclntab();
  ASSERT_NE(tab, nullptr);
  EXPECT_EQ(tab->magic(), 0xfffffff0u);
  EXPECT_EQ(tab->location().source, Pclntab::Location::Source::kSection);
  EXPECT_EQ(tab->location().section, ".gopclntab");
  ASSERT_TRUE(tab->moduledata_vaddr());
  auto text = (*mod)->elf().find_section(".text");
  ASSERT_TRUE(text);
  // The external linker put C code first: Go text is not .text's address.
  EXPECT_GT(tab->text_start(), text->addr);
  EXPECT_EQ(tab->func_at(0).entry, tab->text_start());
  EXPECT_GT(tab->func_count(), 20000u);
  EXPECT_NE(tab->gofunc(), 0u);
  ASSERT_TRUE(tab->find_func_by_name("main.main"));
  ASSERT_TRUE(tab->find_func_by_name("runtime.goexit"));
  EXPECT_FALSE((*mod)->native_symbols().has_symtab());
  auto bi = (*mod)->build_info();
  ASSERT_NE(bi, nullptr);
  EXPECT_EQ(bi->minor_version(), 19);
  EXPECT_EQ(bi->main_path, "go.etcd.io/etcd");
  EXPECT_FALSE((*mod)->elf().gnu_build_id().empty());
  EXPECT_FALSE((*mod)->elf().go_build_id().empty());
  // Every function's entry names that function; inlined frames come first and all share its entry.
  std::vector<Frame> frames;
  size_t with_file = 0, inlined = 0;
  for (size_t i = 0; i < tab->func_count(); ++i) {
    FuncInfo f = tab->func_at(i);
    if (f.entry == f.end) continue;
    frames.clear();
    (*mod)->symbolize(f.entry, false, frames);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().function, f.name);
    EXPECT_EQ(frames.back().entry, f.entry);
    with_file += !frames.front().file.empty();
    uint64_t mid = f.entry + (f.end - f.entry) / 2;
    frames.clear();
    (*mod)->symbolize(mid, true, frames);
    EXPECT_EQ(frames.back().function, f.name);
    for (size_t k = 0; k + 1 < frames.size(); ++k) {
      EXPECT_TRUE(frames[k].inlined);
      EXPECT_EQ(frames[k].entry, f.entry);
      ++inlined;
    }
  }
  EXPECT_GT(with_file, tab->func_count() * 95 / 100);
  EXPECT_GT(inlined, 1000u);
}

TEST(ModuleNative, CgoSymbolsEqualNm) {
  const auto* tc = testing::find_toolchain("go1.26");
  if (!tc && !testing::toolchains().empty()) tc = &testing::toolchains().front();
  if (!tc) GTEST_SKIP() << "no Go toolchain";
  std::string bin = testing::build_target("callers_frames", *tc, {false, true, false});
  ASSERT_FALSE(bin.empty());
  auto mod = Module::open(bin);
  ASSERT_TRUE(mod);
  const NativeSymbols& ns = (*mod)->native_symbols();
  EXPECT_TRUE(ns.has_symtab());
  std::istringstream in(testing::run("nm --defined-only '" + bin + "'"));
  std::string line;
  size_t checked = 0, funcs = 0;
  while (std::getline(in, line)) {
    if (line.size() < 20 || line[16] != ' ' || (line[17] != 'T' && line[17] != 't')) continue;
    std::string addr = line.substr(0, 16), name = line.substr(19);
    uint64_t a = std::stoull(addr, nullptr, 16);
    if (!ns.find_by_name(name)) continue;  // a label (STT_NOTYPE), not a function symbol
    ++funcs;
    auto s = ns.find(a);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(s->addr, a) << name;
    if (name == "x_cgo_init" || name == "_cgo_sys_thread_start") {  // C code of runtime/cgo
      auto by = ns.find_by_name(name);
      ASSERT_TRUE(by);
      EXPECT_EQ(by->addr, a);
      std::vector<Frame> frames;
      (*mod)->symbolize(a + 1, false, frames);
      ASSERT_EQ(frames.size(), 1u);
      EXPECT_EQ(frames[0].function, name);
      EXPECT_FALSE(frames[0].is_go);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2u);
  EXPECT_GT(funcs, 1000u);
  std::vector<Frame> frames;
  (*mod)->symbolize(1, false, frames);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].known());
}

TEST(ModuleThreads, ConcurrentFirstUseGivesSameFrames) {
  std::string bin = kEtcd;
  if (!std::filesystem::exists(bin)) {
    if (testing::toolchains().empty()) GTEST_SKIP() << "neither etcd nor a Go toolchain";
    bin = testing::build_target("callers_frames", testing::toolchains().front(), {});
  }
  auto ref = Module::open(bin);
  ASSERT_TRUE(ref);
  const Pclntab* tab = (*ref)->pclntab();
  ASSERT_NE(tab, nullptr);
  std::mt19937_64 rng(5);
  uint64_t lo = tab->func_at(0).entry, hi = tab->func_at(tab->func_count() - 1).end;
  std::vector<uint64_t> pcs(20000);
  for (auto& pc : pcs) pc = lo + rng() % (hi - lo);
  std::vector<std::vector<Frame>> want(pcs.size());
  for (size_t i = 0; i < pcs.size(); ++i) (*ref)->symbolize(pcs[i], true, want[i]);

  auto mod = Module::open(bin);  // fresh: nothing decoded yet
  ASSERT_TRUE(mod);
  std::atomic<int> ready{0};
  std::atomic<size_t> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < 8) {
      }
      std::vector<Frame> out;
      if (!(*mod)->pclntab()->find_func_by_name("runtime.goexit")) mismatches.fetch_add(1);
      for (size_t i = t; i < pcs.size() + t; ++i) {
        size_t k = i % pcs.size();
        out.clear();
        (*mod)->symbolize(pcs[k], true, out);
        bool same = out.size() == want[k].size();
        for (size_t j = 0; same && j < out.size(); ++j)
          same = out[j].function == want[k][j].function && out[j].line == want[k][j].line &&
                 out[j].file == want[k][j].file && out[j].inlined == want[k][j].inlined;
        if (!same) mismatches.fetch_add(1);
      }
      (void)(*mod)->build_info();
      (void)(*mod)->native_symbols().size();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0u);
}

}  // namespace
}  // namespace goperf::symbolize

// Addr2lineBatch against the printer applied to Module::symbolize one address at a time: the same text,
// in input order, whether answered whole (answer()), symbolized on several threads and gathered in
// pieces, or parsed from text on several threads; with and without -a, since answers that do not show
// the address are shared between addresses of the same frames. Module::symbolize itself is checked
// against go tool addr2line and runtime.CallersFrames elsewhere.
#include "profiler/addr2line/addr2line_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <random>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::profiler {
namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";

// Random pcs of Go text, runs of neighbours (which share answers), repeats and pcs outside Go text.
std::vector<uint64_t> test_pcs(const symbolize::Pclntab& tab) {
  std::mt19937_64 rnd(11);
  uint64_t lo = tab.text_start(), hi = tab.func_at(tab.func_count() - 1).end;
  std::vector<uint64_t> pcs = {0, 1, lo - 1, hi + 7};
  for (int i = 0; i < 30000; ++i) pcs.push_back(lo + rnd() % (hi - lo));
  for (int i = 0; i < 300; ++i) {
    uint64_t at = lo + rnd() % (hi - lo - 64);
    for (uint64_t pc = at; pc < at + 64; ++pc) pcs.push_back(pc);
  }
  size_t n = pcs.size();
  for (size_t i = 0; i < n; i += 5) pcs.push_back(pcs[i]);
  std::shuffle(pcs.begin(), pcs.end(), rnd);
  return pcs;
}

std::string one_at_a_time(const symbolize::Module& mod, const Addr2linePrinter& printer, const std::vector<uint64_t>& pcs) {
  std::string want;
  std::vector<symbolize::Frame> frames;
  for (uint64_t pc : pcs) {
    frames.clear();
    mod.symbolize(pc, false, frames);
    printer.print(pc, frames, want);
  }
  return want;
}

std::string as_lines(const std::vector<uint64_t>& pcs) {
  std::string text;
  char line[32];
  for (uint64_t pc : pcs) text.append(line, size_t(std::snprintf(line, sizeof line, "%#" PRIx64 "\n", pc)));
  return text;
}

class Addr2lineBatchEtcd : public ::testing::TestWithParam<GnuAddr2linePrinter::Config> {};

TEST_P(Addr2lineBatchEtcd, EqualsOneAddressAtATime) {
  if (!std::filesystem::exists(kEtcd)) GTEST_SKIP() << kEtcd << " not installed (scripts/setup installs etcd-server)";
  auto mod = symbolize::Module::open(kEtcd);
  ASSERT_TRUE(mod) << mod.error().message();
  ASSERT_NE((*mod)->pclntab(), nullptr);
  GnuAddr2linePrinter printer(GetParam());
  auto pcs = test_pcs(*(*mod)->pclntab());
  std::string want = one_at_a_time(**mod, printer, pcs);

  Addr2lineBatch whole(**mod, printer);
  for (uint64_t pc : pcs) whole.add(std::to_string(pc));  // binutils reads bare numbers as hex
  EXPECT_EQ(whole.size(), pcs.size());
  whole.clear();
  whole.add_lines(as_lines(pcs));
  whole.answer();
  EXPECT_TRUE(whole.text() == want) << "answer() differs from one address at a time";

  for (unsigned threads : {2u, 3u}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    Addr2lineBatch batch(**mod, printer);
    // Over 1 MiB of text, so that it is parsed on several threads.
    std::vector<uint64_t> many;
    while (many.size() < 70000) many.insert(many.end(), pcs.begin(), pcs.end());
    batch.add_lines(as_lines(many), threads);
    ASSERT_EQ(batch.size(), many.size());
    batch.symbolize(threads);
    std::string got;
    for (size_t at = 0; at < many.size(); at += 4099) batch.gather(at, std::min(many.size(), at + 4099), got);
    std::string many_want;
    for (size_t i = 0; i < many.size(); i += pcs.size()) many_want += want;
    EXPECT_TRUE(got == many_want) << "symbolize(" << threads << ") + gather differs from one address at a time";
  }
}

INSTANTIATE_TEST_SUITE_P(Options, Addr2lineBatchEtcd,
                         ::testing::Values(GnuAddr2linePrinter::Config{.functions = true, .inlines = true},
                                           GnuAddr2linePrinter::Config{.functions = true},
                                           GnuAddr2linePrinter::Config{.addresses = true, .functions = true, .inlines = true},
                                           GnuAddr2linePrinter::Config{.functions = true, .inlines = true, .pretty = true, .basenames = true}));

}  // namespace
}  // namespace goperf::profiler

// Symbolizer micro-benchmarks on Debian's etcd (stripped, cgo, Go 1.19; GOPERF_BENCH_BINARY overrides):
// warm pc lookup with inline expansion, batches of random pcs, open + first pc, and the memory goperf adds over the pclntab.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"
#include "symbolize/sorted_symbolizer.h"

namespace {

using namespace goperf::symbolize;

std::string binary() {
  const char* env = std::getenv("GOPERF_BENCH_BINARY");
  return env ? env : "/usr/bin/etcd";
}

std::shared_ptr<const Module> open_or_skip(benchmark::State& state) {
  auto m = Module::open(binary());
  if (!m || !(*m)->pclntab()) {
    state.SkipWithError((binary() + ": not a readable Go binary").c_str());
    return nullptr;
  }
  return *m;
}

// Random pcs inside Go functions, as a profile's samples would be.
std::vector<uint64_t> random_pcs(const Pclntab& tab, size_t n) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> pcs;
  pcs.reserve(n);
  while (pcs.size() < n) {
    FuncInfo f = tab.func_at(rng() % tab.func_count());
    if (f.end > f.entry) pcs.push_back(f.entry + 1 + rng() % (f.end - f.entry));
  }
  return pcs;
}

void BM_WarmLookupInline(benchmark::State& state) {
  auto mod = open_or_skip(state);
  if (!mod) return;
  auto pcs = random_pcs(*mod->pclntab(), size_t(state.range(0)));
  for (size_t k = 0; pcs.size() < (1 << 16); ++k) pcs.push_back(pcs[k]);
  std::vector<Frame> out;
  out.reserve(64);
  size_t i = 0, frames = 0;
  for (auto _ : state) {
    out.clear();
    mod->symbolize(pcs[i++ & 0xffff], /*is_return_address=*/true, out);
    frames += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["frames_per_pc"] = benchmark::Counter(double(frames) / double(state.iterations()));
}
// Arg: distinct pcs (a profile's hot set is a few thousand; 65536 spreads over the whole binary).
BENCHMARK(BM_WarmLookupInline)->Arg(1024)->Arg(4096)->Arg(65536);

void BM_FindFunc(benchmark::State& state) {
  auto mod = open_or_skip(state);
  if (!mod) return;
  const Pclntab& tab = *mod->pclntab();
  auto pcs = random_pcs(tab, 1 << 16);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tab.find_func(pcs[i++ & 0xffff]));
}
BENCHMARK(BM_FindFunc);

// A batch of pcs spread over all of the binary's text, as `goperf addr2line` reads them from a file:
// symbolize_batch sorts them and decodes each function's tables once (SortedSymbolizer). Against it,
// the same pcs one Module::symbolize at a time (the frame cache mostly misses). Time per pc.
std::vector<uint64_t> random_text_pcs(const Pclntab& tab, size_t n) {
  std::mt19937_64 rng(2);
  FuncInfo last = tab.func_at(tab.func_count() - 1);
  std::vector<uint64_t> pcs(n);
  for (auto& pc : pcs) pc = tab.text_start() + rng() % (last.end - tab.text_start());
  return pcs;
}

void BM_BatchRandomPcs(benchmark::State& state) {
  auto mod = open_or_skip(state);
  if (!mod) return;
  auto pcs = random_text_pcs(*mod->pclntab(), size_t(state.range(0)));
  SymbolizedBatch batch;
  for (auto _ : state) {
    symbolize_batch(*mod, pcs, false, batch);
    benchmark::DoNotOptimize(batch.frames.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * state.range(0));
  state.counters["ns_per_pc"] = benchmark::Counter(double(state.iterations()) * double(state.range(0)),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_BatchRandomPcs)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_OneByOneRandomPcs(benchmark::State& state) {
  auto mod = open_or_skip(state);
  if (!mod) return;
  auto pcs = random_text_pcs(*mod->pclntab(), size_t(state.range(0)));
  std::vector<Frame> out;
  for (auto _ : state) {
    out.clear();
    for (uint64_t pc : pcs) mod->symbolize(pc, false, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ns_per_pc"] = benchmark::Counter(double(state.iterations()) * double(state.range(0)),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_OneByOneRandomPcs)->Arg(1 << 16)->Unit(benchmark::kMillisecond);

// Cold start as `goperf addr2line -e etcd PC` sees it: map, find pclntab and moduledata, answer one pc.
void BM_OpenAndFirstPc(benchmark::State& state) {
  std::vector<Frame> out;
  for (auto _ : state) {
    auto mod = Module::open(binary());
    if (!mod || !(*mod)->pclntab()) {
      state.SkipWithError("not a readable Go binary");
      return;
    }
    out.clear();
    const Pclntab* tab = (*mod)->pclntab();
    FuncInfo f = tab->func_at(tab->func_count() / 2);
    (*mod)->symbolize(f.entry + 1, true, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_OpenAndFirstPc)->Unit(benchmark::kMillisecond);

long rss_kb() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * 4;
}

// Heap goperf allocates for a module with every table decoded (name index, native symbols, build
// info), against the pclntab's size; the file itself is mapped, not copied.
void BM_MemoryVsPclntab(benchmark::State& state) {
  double heap = 0, ratio = 0, pclntab = 0, rss = 0;
  for (auto _ : state) {
    size_t before = mallinfo2().uordblks;
    long rss_before = rss_kb();
    auto mod = Module::open(binary());
    if (!mod || !(*mod)->pclntab()) {
      state.SkipWithError("not a readable Go binary");
      return;
    }
    const Pclntab* tab = (*mod)->pclntab();
    (void)tab->find_func_by_name("main.main");
    (void)(*mod)->native_symbols().size();
    (void)(*mod)->build_info();
    std::vector<Frame> out;
    for (size_t i = 0; i < tab->func_count(); ++i) {
      out.clear();
      (*mod)->symbolize(tab->func_at(i).entry, false, out);
    }
    heap = double(mallinfo2().uordblks - before);
    rss = double(rss_kb() - rss_before) * 1024;
    auto sect = (*mod)->elf().find_section(tab->location().section);
    pclntab = sect ? double(sect->size) : 0;
    ratio = pclntab > 0 ? heap / pclntab : 0;
  }
  state.counters["heap_bytes"] = heap;
  state.counters["rss_bytes_incl_mapped_file"] = rss;
  state.counters["pclntab_bytes"] = pclntab;
  state.counters["heap_over_pclntab"] = ratio;
}
BENCHMARK(BM_MemoryVsPclntab)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

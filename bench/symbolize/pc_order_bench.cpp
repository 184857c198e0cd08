// PcOrder::sort on a million random pcs spread over 16 MiB of text (etcd's .text is 16 MiB): the
// first step of `goperf addr2line` over a file of addresses, before any thread can start.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "symbolize/pc_order.h"

namespace {

void BM_PcOrderSort(benchmark::State& state) {
  std::mt19937_64 rnd(3);
  std::vector<uint64_t> pcs(size_t(state.range(0)));
  for (auto& pc : pcs) pc = 0x4023e0 + rnd() % (16 << 20);
  goperf::symbolize::PcOrder order;
  for (auto _ : state) {
    order.sort(pcs);
    benchmark::DoNotOptimize(order.pc(0));
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_PcOrderSort)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace

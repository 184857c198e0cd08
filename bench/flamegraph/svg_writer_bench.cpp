// Folded -> SVG throughput on synthetic Go-like profiles: parse (Profile and direct paths), tree, SVG.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "flamegraph/call_tree.h"
#include "flamegraph/folded_reader.h"
#include "flamegraph/svg_writer.h"

namespace {

using goperf::flamegraph::CallTree;
using goperf::flamegraph::SvgOptions;
using goperf::flamegraph::SvgWriter;

// Deterministic folded text with `n` stacks of 2..16 frames from a skewed vocabulary (shared prefixes).
std::string make_folded(size_t n) {
  std::mt19937 rng(1);
  std::exponential_distribution<double> pick(1.0 / 120);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += "runtime.goexit;main.worker";
    const int depth = 2 + static_cast<int>(rng() % 15);
    for (int d = 0; d < depth; ++d) {
      const int f = std::min(1199, static_cast<int>(pick(rng)));
      out.append(";pkg").append(std::to_string(f % 20)).append(".F").append(std::to_string(f));
    }
    out.append(" ").append(std::to_string(1 + rng() % 40)).append("\n");
  }
  return out;
}

void BM_FoldedToSvgDirect(benchmark::State& state) {
  const std::string text = make_folded(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto tree = CallTree::from_folded(text, {});
    std::string svg;
    benchmark::DoNotOptimize(SvgWriter(SvgOptions{}).write_tree(*tree, svg).ok());
    benchmark::DoNotOptimize(svg.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FoldedToSvgDirect)->Arg(10000)->Arg(200000)->Unit(benchmark::kMillisecond);

void BM_FoldedToSvgViaProfile(benchmark::State& state) {
  const std::string text = make_folded(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto profile = goperf::flamegraph::parse_folded(text);
    std::string svg;
    benchmark::DoNotOptimize(SvgWriter(SvgOptions{}).write(*profile, svg).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FoldedToSvgViaProfile)->Arg(10000)->Arg(200000)->Unit(benchmark::kMillisecond);

}  // namespace

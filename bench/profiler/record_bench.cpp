// goperf record's hot paths: one sample unwound, symbolized and aggregated, and writing a profile of
// 1,000,000 distinct samples.
//
// The samples are real: a Go target (tests/targets/prof, built here with the `go` on PATH) is sampled
// with the perf sampler for a second; the benchmark then replays the captured samples, round robin,
// through the SampleSymbolizer while the target is stopped (SIGSTOP: its maps stay valid, and it does
// not compete for the CPU with the measurement). Three states of the caches are measured:
//   Warm:        steady state of a recording. Every pc was seen before: the walker's per-pc cache
//                (function kind/flags, pcsp delta) and the pc -> location cache answer every frame.
//   ColdWalker:  the walker's per-pc cache disabled: every frame does Pclntab::find_func and sp_delta
//                (locations still cached): the cost without the walker cache.
//   FirstSight:  a fresh SampleSymbolizer per pass over the captured samples (module opening excluded):
//                the first sample through each pc pays for its lookup and symbolization (inline
//                expansion, file:line, function names). Time per sample = 1 / items_per_second.
//                Kernel frames are not named here (reading /proc/kallsyms once per recording costs
//                ~80 ms and would swamp the per-pc figure).
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "flamegraph/pprof_writer.h"
#include "flamegraph/profile_builder.h"
#include "profiler/record/perf_event_spec.h"
#include "profiler/record/perf_sampler.h"
#include "profiler/record/record_drain.h"
#include "profiler/record/sample_symbolizer.h"

namespace {

using goperf::unwind::OwnedRawSample;

struct Capture {
  pid_t pid = -1;
  std::vector<OwnedRawSample> samples;
};

Capture capture(const std::string& mode) {
  Capture c;
  std::string exe = "/tmp/goperf-bench-prof";
  std::string build = "cd " GOPERF_SOURCE_DIR "/tests/targets/prof && CGO_ENABLED=0 go build -ldflags=-s\\ -w -o " + exe +
                      " . 2>&1";
  if (std::system(build.c_str()) != 0) return c;
  c.pid = fork();
  if (c.pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    execl(exe.c_str(), exe.c_str(), "-mode", mode.c_str(), "-seconds", "600", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  goperf::profiler::PerfSamplerOptions o;
  o.pids = {static_cast<uint32_t>(c.pid)};
  o.event = *goperf::profiler::resolve_event("cpu-clock");
  o.frequency_hz = 999;
  auto sampler = goperf::profiler::make_perf_sampler(o);
  if (!sampler || !(*sampler)->start()) return c;
  goperf::profiler::SampleDrain drain(**sampler);
  drain.start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  drain.finish();
  kill(c.pid, SIGSTOP);
  std::vector<OwnedRawSample> batch;
  while (drain.take(batch, 0)) {
    for (auto& b : batch) c.samples.push_back(std::move(b));
  }
  return c;
}

enum class Cache { kWarm, kColdWalker, kFirstSight };

void unwind_and_symbolize(benchmark::State& state, const char* mode, Cache cache) {
  Capture c = capture(mode);
  if (c.samples.empty()) {
    state.SkipWithError("no samples captured (perf_event_open or go build failed)");
    if (c.pid > 0) kill(c.pid, SIGKILL);
    return;
  }
  goperf::profiler::SampleSymbolizerOptions so;
  so.pids = {static_cast<uint32_t>(c.pid)};
  so.walker_pc_cache = cache != Cache::kColdWalker;
  if (cache == Cache::kFirstSight) so.kernel_symbols = false;
  uint64_t samples = 0, frames = 0, symbolized = 0;
  if (cache == Cache::kFirstSight) {
    for (auto _ : state) {
      state.PauseTiming();
      goperf::profiler::SampleSymbolizer symbolizer(so);  // opens the modules: not timed
      state.ResumeTiming();
      for (const auto& s : c.samples) symbolizer.add(s.sample());
      samples += symbolizer.stats().samples;
      frames += symbolizer.stats().frames;
      symbolized += symbolizer.stats().pc_cache_misses;
    }
    state.SetItemsProcessed(static_cast<int64_t>(samples));
    state.counters["pcs symbolized/sample"] = static_cast<double>(symbolized) / static_cast<double>(samples);
  } else {
    goperf::profiler::SampleSymbolizer symbolizer(so);
    for (const auto& s : c.samples) symbolizer.add(s.sample());  // every pc seen once
    size_t i = 0;
    for (auto _ : state) {
      symbolizer.add(c.samples[i].sample());
      if (++i == c.samples.size()) i = 0;
    }
    samples = symbolizer.stats().samples;
    frames = symbolizer.stats().frames;
  }
  state.counters["frames/sample"] = static_cast<double>(frames) / static_cast<double>(samples);
  state.counters["distinct samples"] = static_cast<double>(c.samples.size());
  kill(c.pid, SIGKILL);
  waitpid(c.pid, nullptr, 0);
}

void BM_UnwindSymbolizeSample_Inline_Warm(benchmark::State& state) {
  unwind_and_symbolize(state, "inline", Cache::kWarm);
}
void BM_UnwindSymbolizeSample_Recursion30_Warm(benchmark::State& state) {
  unwind_and_symbolize(state, "recursion", Cache::kWarm);
}
void BM_UnwindSymbolizeSample_Inline_ColdWalker(benchmark::State& state) {
  unwind_and_symbolize(state, "inline", Cache::kColdWalker);
}
void BM_UnwindSymbolizeSample_Recursion30_ColdWalker(benchmark::State& state) {
  unwind_and_symbolize(state, "recursion", Cache::kColdWalker);
}
void BM_UnwindSymbolizeSample_Inline_FirstSight(benchmark::State& state) {
  unwind_and_symbolize(state, "inline", Cache::kFirstSight);
}
void BM_UnwindSymbolizeSample_Recursion30_FirstSight(benchmark::State& state) {
  unwind_and_symbolize(state, "recursion", Cache::kFirstSight);
}
BENCHMARK(BM_UnwindSymbolizeSample_Inline_Warm);
BENCHMARK(BM_UnwindSymbolizeSample_Recursion30_Warm);
BENCHMARK(BM_UnwindSymbolizeSample_Inline_ColdWalker);
BENCHMARK(BM_UnwindSymbolizeSample_Recursion30_ColdWalker);
BENCHMARK(BM_UnwindSymbolizeSample_Inline_FirstSight)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UnwindSymbolizeSample_Recursion30_FirstSight)->Unit(benchmark::kMillisecond);

// 1,000,000 distinct samples (the worst case: nothing aggregates), 20 frames each over 5,000 locations.
void BM_WriteProfile1M(benchmark::State& state) {
  goperf::flamegraph::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}}, {"cpu", "nanoseconds"},
                                       1001001);
  std::vector<uint32_t> locs;
  for (uint32_t i = 0; i < 5000; ++i) {
    uint32_t fn = b.add_function("main.f" + std::to_string(i), "main.f" + std::to_string(i), "/src/main.go", 10);
    goperf::flamegraph::Line line{fn, static_cast<int64_t>(i)};
    locs.push_back(b.add_location(0x400000 + i * 16, -1, std::span<const goperf::flamegraph::Line>(&line, 1)));
  }
  std::mt19937 rng(1);
  std::vector<uint32_t> stack(20);
  std::vector<int64_t> values{1, 1001001};
  for (int s = 0; s < 1000000; ++s) {
    for (auto& l : stack) l = locs[rng() % locs.size()];
    goperf::flamegraph::Label label{"thread", "", static_cast<int64_t>(s % 16), ""};
    b.add_sample(stack, values, std::span<const goperf::flamegraph::Label>(&label, 1));
  }
  auto profile = b.take();
  std::string path = "/tmp/goperf-bench-1m.pb.gz";
  for (auto _ : state) {
    auto st = goperf::flamegraph::write_pprof_file(profile, path);
    if (!st) state.SkipWithError(st.error().message().c_str());
  }
  state.counters["samples"] = static_cast<double>(profile.samples.size());
  std::remove(path.c_str());
}
BENCHMARK(BM_WriteProfile1M)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

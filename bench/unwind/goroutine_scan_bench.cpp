// The per-tick hot path of `goperf record -e goroutines`: GoroutineScan over 10,000 synthetic g heads
// (Go 1.26's layout, 480 bytes apart as in the heap's spans), all unchanged, or with 4% changed per
// tick (as bench/targets/gload's ticking goroutines). The heads lie in this process's own memory and are
// read two ways: with process_vm_readv of this process (ProcessMemory(getpid()): the kernel's page pins
// and copy, as against a target), and with memcpy (the comparison alone, without the kernel's share).
// Time per iteration = one tick.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_scan.h"
#include "unwind/memory.h"
#include "unwind/process_memory.h"

namespace {

using namespace goperf::unwind;

constexpr size_t kGs = 10000, kStride = 480;

// Memory over this process's own address space, read with memcpy.
class SelfMemory : public Memory {
 public:
  goperf::Status read(uint64_t addr, std::span<uint8_t> out) const override {
    std::memcpy(out.data(), reinterpret_cast<const void*>(addr), out.size());
    return {};
  }
};

struct Heap {
  const GLayout& l = layout_for_go_minor(26).layout->g;
  std::vector<uint8_t> gs = std::vector<uint8_t>(kGs * kStride);
  std::vector<uint64_t> allgs = std::vector<uint64_t>(kGs);
  uint64_t header[3] = {};
  RuntimeGlobals globals;

  Heap() {
    for (size_t i = 0; i < kGs; ++i) {
      uint8_t* g = gs.data() + i * kStride;
      put<uint64_t>(g + l.goid, i + 1);
      put<uint32_t>(g + l.atomicstatus, kGwaiting);
      put<uint8_t>(g + l.waitreason, 7);
      put<uint64_t>(g + l.sched_sp, 0xc000100000 + i * 0x800 + 0x700);
      put<uint64_t>(g + l.sched_pc, 0x401000);
      put<uint64_t>(g + l.stack_lo, 0xc000100000 + i * 0x800);
      allgs[(i * 7) % kGs] = reinterpret_cast<uint64_t>(g);  // allgs in another order than the addresses
    }
    header[0] = reinterpret_cast<uint64_t>(allgs.data());
    header[1] = header[2] = kGs;
    globals.allgs = reinterpret_cast<uint64_t>(header);
  }
  template <typename T>
  static void put(uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
  }
  // Every 25th g moves on (its saved sp), 4% per tick.
  void move_some(uint64_t tick) {
    for (size_t i = tick % 25; i < kGs; i += 25) put<uint64_t>(gs.data() + i * kStride + l.sched_sp, tick);
  }
};

void run(benchmark::State& state, const Memory& mem, Heap& heap, bool changes) {
  GoroutineScan scan(mem, *layout_for_go_minor(26).layout, heap.globals, 0);
  if (!scan.scan()) state.SkipWithError("first scan failed");
  uint64_t tick = 1, looked = 0;
  for (auto _ : state) {
    if (changes) heap.move_some(++tick);
    if (!scan.scan()) state.SkipWithError("scan failed");
    looked += scan.to_look_at().size();
    benchmark::DoNotOptimize(looked);
  }
  state.counters["looked_at_per_tick"] = benchmark::Counter(static_cast<double>(looked), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kGs));
}

void BM_GoroutineScan_Unchanged_ProcessVmReadv(benchmark::State& state) {
  Heap heap;
  ProcessMemory mem(getpid());
  run(state, mem, heap, false);
}
BENCHMARK(BM_GoroutineScan_Unchanged_ProcessVmReadv)->Unit(benchmark::kMicrosecond);

void BM_GoroutineScan_4PercentChanged_ProcessVmReadv(benchmark::State& state) {
  Heap heap;
  ProcessMemory mem(getpid());
  run(state, mem, heap, true);
}
BENCHMARK(BM_GoroutineScan_4PercentChanged_ProcessVmReadv)->Unit(benchmark::kMicrosecond);

void BM_GoroutineScan_Unchanged_Memcpy(benchmark::State& state) {
  Heap heap;
  SelfMemory mem;
  run(state, mem, heap, false);
}
BENCHMARK(BM_GoroutineScan_Unchanged_Memcpy)->Unit(benchmark::kMicrosecond);

}  // namespace

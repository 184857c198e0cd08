// TickSource: the kernel's scheduler tick as a source of CPU samples, and the plan that mixes it with
// cpu-clock samples to reach a requested rate.
//
// Why: every CPU that runs a task takes a timer interrupt HZ times a second anyway (the scheduler tick,
// an hrtimer whose expiry fires the tracepoint timer:hrtimer_expire_entry in the interrupted task's
// context). A sample taken there costs the sampled thread only the sample's own work. A cpu-clock sample
// costs a timer interrupt of its own: measured here (a VM, `bench/e2e_record.py --mode stolen`) about
// 18 us of the thread's time per sample, of which the stack copy is about 1 us. runtime/pprof's SIGPROF
// timers are delivered at the tick as well, so tick samples fall where Go's own profiler's do.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "symbolize/result.h"

namespace goperf::unwind {

struct TickSource {
  uint64_t tick_ns = 0;          // 1e9 / HZ
  uint64_t handler = 0;          // kernel address of the tick's hrtimer function (tick_nohz_handler)
  // The timer interrupt's entry stub (asm_sysvec_apic_timer_interrupt): in the kernel callchain of a
  // tick sample, the frames above it are what the interrupt interrupted (none: it came from user space).
  uint64_t irq_entry_start = 0;
  uint64_t irq_entry_end = 0;
  uint32_t hz() const { return tick_ns ? static_cast<uint32_t>((1000000000ULL + tick_ns / 2) / tick_ns) : 0; }
};

// Where find_tick_source looks (files of the running kernel by default; tests give their own).
struct TickSourcePaths {
  std::string kallsyms = "/proc/kallsyms";
  std::string nohz_full = "/sys/devices/system/cpu/nohz_full";  // CPUs whose tick stops while one task runs
  std::string timer_list = "/proc/timer_list";                  // ".hres_active : 1" per CPU
};

// Finds the tick: HZ from the resolution of CLOCK_MONOTONIC_COARSE (the kernel's TICK_NSEC), the
// handler and the entry stub from kallsyms. The error says why it cannot be used: kernel addresses
// hidden (kernel.kptr_restrict); CPUs in nohz_full mode, where a busy thread runs without a tick; a
// CPU in low-resolution mode, whose tick is not an hrtimer and so fires no hrtimer tracepoint.
Result<TickSource> find_tick_source(const TickSourcePaths& paths = {});

// The id of a tracepoint (tracefs events/SYSTEM/EVENT/id), mounting tracefs at /sys/kernel/tracing
// first where it is not mounted (as perf does). kNotFound when the kernel has no such tracepoint.
Result<int> tracepoint_id(std::string_view system, std::string_view event);

// The frames of a tick sample's kernel callchain (innermost first) that the interrupt interrupted:
// those after the entry stub. Empty when the tick came from user space.
std::span<const uint64_t> interrupted_frames(std::span<const uint64_t> chain, const TickSource& tick);

// How to sample `hz` times per second of a thread's CPU time. Up to HZ: every Nth tick a thread takes,
// N = HZ / hz rounded down (at least the rate asked for). Above HZ: every tick, plus a cpu-clock event
// for the rest of the rate. Each sample stands for the CPU time given by its weight, so that a profile's
// total is the CPU time whichever source a sample came from.
struct SamplingPlan {
  uint32_t tick_every = 0;       // sample every Nth tick of a target thread (0: ticks are not used)
  uint64_t clock_hz = 0;         // plus cpu-clock samples at this rate (0: none)
  uint64_t tick_weight_ns = 0;   // CPU time one tick sample stands for
  uint64_t clock_weight_ns = 0;  // CPU time one cpu-clock sample stands for
  bool empty() const { return tick_every == 0 && clock_hz == 0; }
  uint64_t clock_period_ns() const { return clock_hz ? 1000000000ULL / clock_hz : 0; }
  // What one sample stands for, whichever source took it (mixed, both weigh 1/hz): the profile's period.
  uint64_t weight_ns() const { return tick_every ? tick_weight_ns : clock_weight_ns; }
  double effective_hz() const;   // samples per second of CPU time
};

// tick == nullptr: cpu-clock only.
SamplingPlan plan_sampling(uint64_t hz, const TickSource* tick);

}  // namespace goperf::unwind

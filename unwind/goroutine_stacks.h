// GoroutineStacks: the stacks of a running process's goroutines, read from outside without stopping
// it, tick after tick. A goroutine off-thread (waiting, runnable, in a syscall) does not touch the
// part of its stack above its saved sp, so it is walked live from its saved context, and then its g
// is read again: the walk counts only if status, saved context and stack bounds are what they were
// before (else it is retried once, then dropped and counted). A goroutine whose saved context (goid,
// pc/sp, syscall pc/sp, stack.lo) is the one walked before keeps those frames, without any read.
// Running goroutines (their registers are on a thread) get no stack here.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "unwind/stack_walker.h"

namespace goperf::unwind {

class Memory;
class AddressSpace;
class GoroutineLister;
class PcInfoCache;
struct GoroutineInfo;
struct MInfo;

struct GoroutineStack {
  enum class Source : uint8_t {
    kWalked,    // walked at this tick, consistent before and after
    kReused,    // unchanged since the previous tick: the frames walked then
    kOnThread,  // running (or its stack being moved): no stack from outside
    kChanged,   // moved on twice while being read: dropped
  };
  Source source = Source::kOnThread;
  std::span<const PhysicalFrame> frames;  // innermost first; valid until the next stack() or end_tick()
  StopReason reason = StopReason::kTopFrame;
  uint64_t version = 0;                   // changes whenever this g's frames may differ from before
};

struct GoroutineStackStats {
  uint64_t walked = 0, reused = 0, on_thread = 0, retried = 0, dropped = 0;
};

class GoroutineStacks {
 public:
  // All references must outlive this object. `memory` reads the live process.
  GoroutineStacks(const Memory& memory, const AddressSpace& space, const GoroutineLister& lister);
  ~GoroutineStacks();
  GoroutineStacks(const GoroutineStacks&) = delete;
  GoroutineStacks& operator=(const GoroutineStacks&) = delete;

  // The stack of `g` (from this tick's list), `m` its g.m when known.
  GoroutineStack stack(const GoroutineInfo& g, const MInfo* m);
  // Ends a tick. Entries are kept for every g ever asked for: g's are never freed (allgs only grows),
  // and a g reused for another goroutine has another goid, which stack() compares.
  void end_tick();

  const GoroutineStackStats& stats() const { return stats_; }
  // Off for benchmarks and tests of the full cost: every goroutine is walked at every tick.
  void set_reuse(bool on) { reuse_ = on; }

 private:
  struct Entry;
  bool walk(const GoroutineInfo& g, const MInfo* m, Entry& e);

  const Memory& memory_;
  const AddressSpace& space_;
  const GoroutineLister& lister_;
  std::unique_ptr<PcInfoCache> pc_cache_;
  std::unordered_map<uint64_t, Entry> entries_;  // by g address
  std::vector<PhysicalFrame> buf_;
  GoroutineStackStats stats_;
  uint64_t next_version_ = 1;
  uint32_t tick_ = 0;
  bool reuse_ = true;
};

}  // namespace goperf::unwind

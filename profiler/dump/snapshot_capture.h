// SnapshotCapture: what `goperf snapshot` copies of a live Go process while it is stopped (every
// goroutine's live stack, every thread's registers and system stack, the goroutine list), so that the
// walk, symbolization and output run after the process was resumed.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "profiler/dump/goroutine_dump.h"
#include "symbolize/result.h"
#include "unwind/cached_memory.h"
#include "unwind/goroutine_lister.h"

namespace goperf::unwind {
class GoTarget;
}

namespace goperf::profiler {

int64_t clock_ns(clockid_t clock);
inline int64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

// GOPERF_SNAPSHOT_TIMING=1: wall and CPU time of each phase on stderr.
struct PhaseTimer {
  bool on = std::getenv("GOPERF_SNAPSHOT_TIMING") != nullptr;
  int64_t wall = monotonic_ns(), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  void mark(const char* phase);
};

struct SnapshotCapture {
  // backing: the live process, read through for what was not copied until detach_backing().
  explicit SnapshotCapture(const unwind::Memory* backing) : memory(backing) {}
  unwind::CachedMemory memory;            // the copies
  std::vector<ThreadRegisters> threads;   // registers of every thread at the stop
  unwind::GoroutineList list;
  int64_t now_nanotime = 0;               // CLOCK_MONOTONIC at the end of the copy (the runtime's nanotime)
  uint64_t paused_ns = 0;                 // how long the process was stopped
};

// Stops the process of `target` (open_process), reads its goroutine list and copies what the walk needs,
// and resumes it. The copies stay readable through out.memory after the process runs on.
Status capture_stopped_process(const unwind::GoTarget& target, SnapshotCapture& out, PhaseTimer& timer);

}  // namespace goperf::profiler

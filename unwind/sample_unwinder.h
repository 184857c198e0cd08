// SampleUnwinder: the first entry point of unwind/ (the second is choose_walk_start,
// goroutine_walk_start.h). It turns a sample (registers, stack windows, the goroutine the sampler read,
// the process) into physical frames and a stop reason: the walk over the sampled copy, then the
// continuations onto another stack that the copy alone cannot give (sample_continuations.h): after a cgo
// call, from the system stack to m.curg, after a vDSO call. One per process: it keeps the goroutine
// frames behind cgo calls between samples. walk() allocates only on those continuations.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "unwind/goroutine_lister.h"
#include "unwind/sampler.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {

class AddressSpace;
class Memory;
class PcInfoCache;

// The process a sample came from, as the caller keeps it (it may re-read the address space).
struct SampleTarget {
  const AddressSpace* space = nullptr;      // required
  const Memory* live = nullptr;             // the live process; nullptr: no continuation reads it
  const GoRuntimeLayout* layout = nullptr;  // the Go runtime's layout, known exactly; nullptr: no m.curg switch
  PcInfoCache* pc_cache = nullptr;          // the walker's per-pc cache of this address space, or nullptr
};

struct SampleWalk {
  WalkResult result;          // all frames, continuations included
  WalkResult window;          // the walk over the sampled copy alone (before any continuation)
  uint64_t window_used = 0;   // bytes of the copy a complete window walk used (up to its highest sp/fp)
  unsigned switched = 0;      // switches from the system stack to the goroutine (walker's, then m.curg's)
  unsigned live_tail = 0;     // reads of the live stack above the copy
};

// Whether a sampler should take the kernel's frame-pointer walk of user space (RawSample::user_chain) for
// samples of this architecture: where a clock read's callers are on a stack its copy does not hold, but
// frame pointers chain through them (FrameRules::kVdsoCallerFrameRecord; vdso_continuation.cpp).
bool vdso_callers_from_kernel_walk(Arch arch);

class SampleUnwinder {
 public:
  SampleUnwinder();
  ~SampleUnwinder();
  SampleUnwinder(const SampleUnwinder&) = delete;
  SampleUnwinder& operator=(const SampleUnwinder&) = delete;

  // Frames of s's user stack into `out`, innermost first. `live_tail_bytes`: how far above the copy a walk
  // may read the live stack (StackWindowMemory::set_live_tail).
  SampleWalk walk(const RawSample& s, const SampleTarget& target, std::span<PhysicalFrame> out,
                  uint64_t live_tail_bytes);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace goperf::unwind

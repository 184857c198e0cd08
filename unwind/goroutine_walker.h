// GoroutineWalker: walks one goroutine of a stopped process or a core from the start choose_walk_start
// gives (goroutine_walk_start.h), with a per-pc cache shared across the goroutines of one dump (thousands
// of goroutines share the same frames). The dump builders' way into unwind/.
#pragma once

#include <memory>
#include <span>

#include "unwind/goroutine_walk_start.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {

class AddressSpace;
class Memory;
class PcInfoCache;

struct GoroutineWalk {
  WalkResult result;       // frames written, and why the walk stopped (kUnknownPc when not walked)
  bool walked = false;     // false: running on a thread that was not identified (g.sched is stale)
  bool on_thread = false;  // walked from a thread's registers (the thread goes with the goroutine)
};

class GoroutineWalker {
 public:
  GoroutineWalker(const Memory& memory, const AddressSpace& space, const GoRuntimeLayout& layout,
                  Arch arch = Arch::kAmd64);
  ~GoroutineWalker();
  GoroutineWalker(const GoroutineWalker&) = delete;
  GoroutineWalker& operator=(const GoroutineWalker&) = delete;

  // `m`: g.m's MInfo or nullptr; `thread`: the thread current_g found running g, or nullptr.
  GoroutineWalk walk(const GoroutineInfo& g, const MInfo* m, const GoroutineThread* thread,
                     std::span<PhysicalFrame> out);

 private:
  const Memory& memory_;
  const GoRuntimeLayout& layout_;
  std::unique_ptr<PcInfoCache> cache_;
  StackWalker walker_;
  GoroutineWalkStart start_;
};

}  // namespace goperf::unwind

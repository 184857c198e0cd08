// GoroutineWalker: choose_walk_start, then the walk.
#include "unwind/goroutine_walker.h"

#include "unwind/pc_info_cache.h"

namespace goperf::unwind {

GoroutineWalker::GoroutineWalker(const Memory& memory, const AddressSpace& space, const GoRuntimeLayout& layout,
                                 Arch arch)
    : memory_(memory),
      layout_(layout),
      cache_(std::make_unique<PcInfoCache>()),
      walker_(memory, space, cache_.get()) {
  start_.arch = arch;
}

GoroutineWalker::~GoroutineWalker() = default;

GoroutineWalk GoroutineWalker::walk(const GoroutineInfo& g, const MInfo* m, const GoroutineThread* thread,
                                    std::span<PhysicalFrame> out) {
  choose_walk_start(g, m, thread, memory_, layout_, start_);
  GoroutineWalk w;
  w.on_thread = start_.on_thread;
  w.walked = start_.walkable;
  if (!w.walked) {
    w.result.reason = StopReason::kUnknownPc;
    return w;
  }
  w.result = walker_.walk(start_.start, start_.options, out);
  return w;
}

}  // namespace goperf::unwind

// GoroutineStacks: parked goroutines walked live and checked before/after; unchanged ones reused.
#include "unwind/goroutine_stacks.h"

#include "unwind/cached_memory.h"
#include "unwind/goroutine_lister.h"
#include "unwind/goroutine_walk_start.h"
#include "unwind/pc_info_cache.h"
#include "unwind/perf_registers.h"

namespace goperf::unwind {
namespace {

constexpr size_t kMaxFrames = 1024;

// What a parked goroutine's stack depends on. While these stay the same, the goroutine has not run
// on the part of its stack above its saved sp (a goroutine that runs and parks again is saved anew by
// gopark/mcall or entersyscall), and the runtime has not moved the stack (copystack changes stack.lo
// and the saved sp). The status is not part of it: a waiting goroutine made runnable (ready) keeps
// its saved context and its stack; whether it is off-thread at all is checked apart (walkable).
struct Saved {
  uint64_t goid = 0;
  uint64_t sched_pc = 0, sched_sp = 0, syscall_pc = 0, syscall_sp = 0, stack_lo = 0;

  static Saved of(const GoroutineInfo& g) {
    return {g.goid, g.sched_pc, g.sched_sp, g.syscallpc, g.syscallsp, g.stack_lo};
  }
  bool operator==(const Saved&) const = default;
};

// Off-thread with a saved context the runtime itself would walk from (traceback.go initAt).
bool walkable(uint32_t status) {
  return status == kGrunnable || status == kGwaiting || status == kGsyscall || status == kGpreempted;
}

}  // namespace

struct GoroutineStacks::Entry {
  Saved saved;
  std::vector<PhysicalFrame> frames;
  StopReason reason = StopReason::kTopFrame;
  uint64_t version = 0;
  bool valid = false;     // frames belong to `saved`
};

GoroutineStacks::GoroutineStacks(const Memory& memory, const AddressSpace& space, const GoroutineLister& lister)
    : memory_(memory), space_(space), lister_(lister), pc_cache_(std::make_unique<PcInfoCache>()), buf_(kMaxFrames) {}

GoroutineStacks::~GoroutineStacks() = default;

bool GoroutineStacks::walk(const GoroutineInfo& g, const MInfo* m, Entry& e) {
  // Through a page cache: one read per stack page instead of one per word.
  CachedMemory pages(&memory_);
  StackWalker walker(pages, space_, pc_cache_.get());
  WalkOptions opt;
  opt.innermost_exact = false;
  opt.stack_lo = g.stack_lo;
  opt.stack_hi = g.stack_hi;
  // A live process of this host (record -e goroutines): its goroutines are saved by this host's
  // architecture's gopark/mcall (arm64: the return address at the saved sp, not above the frame).
  auto r = walker.walk(parked_walk_start(g, m, pages, host_arch()), opt, std::span<PhysicalFrame>(buf_));
  // The check after: the g read again must show the same saved state, or the frames may be torn.
  auto after = lister_.read_g(memory_, g.g_addr);
  if (!after || !walkable(after->base_status()) || !(Saved::of(*after) == Saved::of(g))) return false;
  e.frames.assign(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(r.count));
  e.reason = r.reason;
  return true;
}

GoroutineStack GoroutineStacks::stack(const GoroutineInfo& g, const MInfo* m) {
  Entry& e = entries_[g.g_addr];
  const Saved now = Saved::of(g);
  GoroutineStack out;
  if (!walkable(g.base_status())) {
    e.valid = false;
    ++stats_.on_thread;
    out.source = GoroutineStack::Source::kOnThread;
    return out;
  }
  if (reuse_ && e.valid && e.saved == now) {
    ++stats_.reused;
    out.source = GoroutineStack::Source::kReused;
  } else {
    e.valid = false;
    bool ok = walk(g, m, e);
    if (!ok) {
      // Moved on between the reads: once more from its state now, if it is still off-thread.
      ++stats_.retried;
      auto again = lister_.read_g(memory_, g.g_addr);
      ok = again && Saved::of(*again).goid == now.goid && walkable(again->base_status()) && walk(*again, m, e);
      if (ok) e.saved = Saved::of(*again);
    } else {
      e.saved = now;
    }
    if (!ok) {
      ++stats_.dropped;
      out.source = GoroutineStack::Source::kChanged;
      return out;
    }
    e.valid = true;
    e.version = next_version_++;
    ++stats_.walked;
    out.source = GoroutineStack::Source::kWalked;
  }
  out.frames = e.frames;
  out.reason = e.reason;
  out.version = e.version;
  return out;
}

void GoroutineStacks::end_tick() { ++tick_; }

}  // namespace goperf::unwind

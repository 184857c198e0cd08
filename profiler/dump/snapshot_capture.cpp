// The stopped part of `goperf snapshot`: memory for the copies prepared while the target runs, then the
// target stopped, its goroutine list read and every stack it needs copied, and the target resumed.
#include "profiler/dump/snapshot_capture.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "unwind/address_space.h"
#include "unwind/go_target.h"
#include "unwind/goroutine_stack_copy.h"
#include "unwind/process_memory.h"
#include "unwind/process_status.h"
#include "unwind/ptrace_session.h"

namespace goperf::profiler {

int64_t clock_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void PhaseTimer::mark(const char* phase) {
  if (!on) return;
  int64_t w = monotonic_ns(), c = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  std::fprintf(stderr, "goperf snapshot: %-8s %8.3f ms wall %8.3f ms cpu\n", phase, (w - wall) / 1e6, (c - cpu) / 1e6);
  wall = w;
  cpu = c;
}

namespace {


// Memory for copies, mapped and faulted in before the stop, so that the copy takes no page faults while
// the target waits. Huge pages where the kernel gives them: fewer faults and a cheaper unmap.
struct Arena {
  uint8_t* data = nullptr;
  size_t size = 0;

  explicit Arena(size_t n) {
    if (n == 0) return;
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    data = static_cast<uint8_t*>(p);
    size = n;
#ifdef MADV_HUGEPAGE
    ::madvise(p, n, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
    if (::madvise(p, n, MADV_POPULATE_WRITE) == 0) return;
#endif
    for (size_t i = 0; i < n; i += 4096) data[i] = 0;  // kernels before 5.14: touch every page
  }
  ~Arena() {
    if (data) ::munmap(data, size);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
};


// While the target is stopped, every millisecond goperf waits for a CPU is a millisecond the target
// cannot run: on a busy machine the scheduler, not the work, made most of the pause. So the stopped
// section runs at the highest nice level when allowed (root or CAP_SYS_NICE; else unchanged), and the
// previous level is restored as soon as the target runs again.
class RaisedPriority {
 public:
  RaisedPriority() {
    errno = 0;
    old_ = ::getpriority(PRIO_PROCESS, 0);
    raised_ = errno == 0 && old_ > -20 && ::setpriority(PRIO_PROCESS, 0, -20) == 0;
  }
  ~RaisedPriority() {
    if (raised_) ::setpriority(PRIO_PROCESS, 0, old_);
  }
  RaisedPriority(const RaisedPriority&) = delete;
  RaisedPriority& operator=(const RaisedPriority&) = delete;

 private:
  int old_ = 0;
  bool raised_ = false;
};

// What must be copied while the target is stopped: each goroutine's live stack, and each thread's
// stack from its sp (g0 / C stacks), so that the walk can run after the target was resumed. Ranges go
// into one arena allocated and touched before the stop, so that the copy takes no page faults.
struct CopyPlan {
  std::vector<iovec> remote, local;
  std::vector<uint64_t> addrs, sizes;
  size_t total = 0;

  void add(uint64_t lo, uint64_t hi) {
    if (hi <= lo || hi - lo > (64u << 20)) return;
    addrs.push_back(lo);
    sizes.push_back(hi - lo);
    total += hi - lo;
  }
  // Into `arena`, and into a second one allocated now for what does not fit (an estimate that was short).
  void copy(const unwind::ProcessMemory& mem, unwind::CachedMemory& cache, const std::shared_ptr<Arena>& arena) {
    remote.resize(addrs.size());
    local.resize(addrs.size());
    std::shared_ptr<Arena> more;
    size_t off = 0, i = 0;
    for (; i < addrs.size() && off + sizes[i] <= arena->size; ++i) {
      remote[i] = {reinterpret_cast<void*>(addrs[i]), sizes[i]};
      local[i] = {arena->data + off, sizes[i]};
      off += sizes[i];
    }
    const size_t fit = i;
    if (fit < addrs.size()) {
      more = std::make_shared<Arena>(total - off);
      off = 0;
      for (; i < addrs.size() && off + sizes[i] <= more->size; ++i) {
        remote[i] = {reinterpret_cast<void*>(addrs[i]), sizes[i]};
        local[i] = {more->data + off, sizes[i]};
        off += sizes[i];
      }
    }
    const size_t n = i;
    std::unique_ptr<bool[]> ok(new bool[n]());
    mem.read_many(std::span<const iovec>(remote.data(), n), std::span<const iovec>(local.data(), n),
                  std::span<bool>(ok.get(), n));
    for (size_t j = 0; j < n; ++j)
      if (ok[j])
        cache.add_range(addrs[j], std::span<const uint8_t>(static_cast<const uint8_t*>(local[j].iov_base), sizes[j]),
                        j < fit ? arena : more);
  }
};

// Memory for the goroutine list (a few hundred bytes per goroutine), faulted in before the stop and
// reused in it.
void reserve_list(const unwind::GoTarget& target, unwind::GoroutineList& list) {
  const uint64_t allgs = target.globals().allgs;
  if (allgs == 0) return;
  if (auto n = unwind::allgs_length(target.memory(), allgs + target.bias()); n && *n <= (4u << 20)) {
    list.goroutines.resize(*n + 1024);
    list.goroutines.clear();
  }
}

// Each thread's stack from its sp when it runs on a system stack (g0, gsignal, a C thread): up to its
// g's stack.hi when known, else a bounded window. A thread on a goroutine's stack is copied with it.
void plan_thread_stacks(const unwind::GoTarget& target, SnapshotCapture& out, CopyPlan& plan) {
  const unwind::GLayout& gl = target.layout().g;
  for (const auto& t : out.threads) {
    // Which g the thread runs is decided later; reading it now caches the TLS, g and m pages.
    auto tg = target.current_g(out.memory, t.regs);
    if (tg && tg->kind == unwind::ThreadG::Kind::kUser) continue;
    const unwind::Mapping* m = target.space()->mappings().find(t.regs.sp);
    uint64_t end = std::min<uint64_t>(m ? m->end : t.regs.sp + 4096, t.regs.sp + (256u << 10));
    if (tg) {
      auto hi = out.memory.read_u64(tg->g + gl.stack_hi);
      if (hi && *hi > t.regs.sp && *hi - t.regs.sp < (1u << 20)) end = *hi;
    }
    plan.add(t.regs.sp, end);
  }
  for (const auto& g : out.list.goroutines) {
    auto [lo, hi] = unwind::stack_to_copy(g.stack_lo, g.stack_hi, g.sched_sp, g.syscallsp, g.base_status());
    plan.add(lo, hi);
  }
}

}  // namespace

Status capture_stopped_process(const unwind::GoTarget& target, SnapshotCapture& out, PhaseTimer& timer) {
  const unwind::ProcessMemory& pmem = *target.process_memory();
  const pid_t pid = pmem.pid();
  // The arena for the stack copies, faulted in now: a sample of the goroutines gives its size.
  const uint64_t allgs = target.globals().allgs;
  auto arena = std::make_shared<Arena>(allgs ? unwind::estimate_stack_bytes(pmem, allgs + target.bias(), target.layout().g)
                                             : size_t{4} << 20);
  reserve_list(target, out.list);
  timer.mark("arena");
  RaisedPriority priority;
  const int64_t t0 = monotonic_ns();
  auto session = unwind::PtraceSession::attach(pid);
  if (!session) return std::move(session).error();
  const int64_t t1 = monotonic_ns(), c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  // The list straight from the process: the lister reads the g's in a few large ranges into one buffer;
  // nothing of them is needed once they are parsed.
  auto listed = target.lister().list_into(pmem, out.list);
  const int64_t t2 = monotonic_ns(), c2 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  if (!listed) {
    (*session)->detach();
    auto again = unwind::read_process_status(pid);
    if (!again.exists || again.state == 'Z') return make_error(ErrorCode::kUnavailable, target.who() + " exited during the snapshot");
    return make_error(listed.error().code(), "reading the goroutine list: " + listed.error().message());
  }
  for (const auto& t : (*session)->threads()) out.threads.push_back({t.tid, t.regs});
  CopyPlan plan;
  plan_thread_stacks(target, out, plan);
  const int64_t t3 = monotonic_ns(), c3 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  plan.copy(pmem, out.memory, arena);
  out.now_nanotime = monotonic_ns();
  const int64_t c4 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  if (timer.on)
    std::fprintf(stderr, "goperf snapshot: stop %.3f ms, list %.3f ms (cpu %.3f ms), registers+plan %.3f ms, copy %.3f ms (cpu %.3f ms, %zu ranges, %zu KiB into an arena of %zu KiB)\n",
                 (t1 - t0) / 1e6, (t2 - t1) / 1e6, (c2 - c1) / 1e6, (t3 - t2) / 1e6, (out.now_nanotime - t3) / 1e6,
                 (c4 - c3) / 1e6, plan.addrs.size(), plan.total >> 10, arena->size >> 10);
  (*session)->detach();
  out.paused_ns = (*session)->paused_ns();
  out.memory.detach_backing();
  return {};
}

}  // namespace goperf::profiler

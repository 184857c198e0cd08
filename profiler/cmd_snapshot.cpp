// goperf snapshot: stop a live Go process for as short a time as possible, copy its goroutine list and
// stacks, resume it, then walk, symbolize and print every goroutine as the runtime's SIGQUIT dump.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "profiler/commands.h"
#include "profiler/process_owner.h"
#include "profiler/goroutine_dump.h"
#include "profiler/dump_origin.h"
#include "profiler/goroutine_diff.h"
#include "profiler/goroutine_dump_buffer.h"
#include "profiler/goroutine_dump_reader.h"
#include "profiler/goroutine_filter.h"
#include "profiler/goroutine_groups.h"
#include "profiler/goroutine_waits.h"
#include "profiler/snapshot_options.h"
#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/cached_memory.h"
#include "unwind/goroutine_lister.h"
#include "unwind/process_memory.h"
#include "unwind/process_status.h"
#include "unwind/ptrace_session.h"
#include "unwind/runtime_globals.h"

namespace goperf::profiler {

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf snapshot: %s\n", message.c_str());
  return 1;
}

int64_t clock_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}
int64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// GOPERF_SNAPSHOT_TIMING=1: wall and CPU time of each phase on stderr.
struct PhaseTimer {
  bool on = std::getenv("GOPERF_SNAPSHOT_TIMING") != nullptr;
  int64_t wall = monotonic_ns(), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  void mark(const char* phase) {
    if (!on) return;
    int64_t w = monotonic_ns(), c = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    std::fprintf(stderr, "goperf snapshot: %-8s %8.3f ms wall %8.3f ms cpu\n", phase, (w - wall) / 1e6, (c - cpu) / 1e6);
    wall = w;
    cpu = c;
  }
};

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

// The part of a goroutine's stack a snapshot copies: from its saved sp up (sched or syscall state);
// all of it when it runs (its sp is in its thread's registers, not in g.sched).
std::pair<uint64_t, uint64_t> stack_to_copy(uint64_t lo, uint64_t hi, uint64_t sched_sp, uint64_t syscallsp,
                                            uint32_t base_status) {
  if (hi <= lo) return {0, 0};
  uint64_t sp = sched_sp;
  if (syscallsp != 0 && syscallsp >= lo && syscallsp < sp) sp = syscallsp;
  if (base_status == unwind::kGrunning || base_status == unwind::kGsyscall || sp < lo || sp >= hi) sp = lo;
  return {sp, hi};
}

// Bytes the stack copies will take, estimated before the stop from a sample of the goroutines (read
// while the target runs: only the size matters), with a margin and room for the threads' stacks.
size_t estimate_stack_bytes(const unwind::ProcessMemory& mem, uint64_t allgs, const unwind::GLayout& gl) {
  constexpr size_t kBase = 4u << 20, kSample = 512;
  auto ptr = mem.read_u64(allgs);
  auto len = mem.read_u64(allgs + 8);
  if (!ptr || !len || *len == 0 || *len > (4u << 20)) return kBase;
  const size_t n = *len, step = std::max<size_t>(1, n / kSample);
  std::vector<uint64_t> gps((n + step - 1) / step);
  std::vector<iovec> remote(gps.size()), local(gps.size());
  for (size_t i = 0; i < gps.size(); ++i) {
    remote[i] = {reinterpret_cast<void*>(*ptr + i * step * 8), 8};
    local[i] = {&gps[i], 8};
  }
  std::unique_ptr<bool[]> ok(new bool[gps.size()]());
  mem.read_many(remote, local, std::span<bool>(ok.get(), gps.size()));
  const uint32_t span = std::max({gl.stack_lo, gl.stack_hi, gl.sched_sp, gl.syscallsp, gl.atomicstatus}) + 8;
  std::vector<uint8_t> bytes(gps.size() * span);
  size_t k = 0;
  for (size_t i = 0; i < gps.size(); ++i) {
    if (!ok[i] || gps[i] == 0) continue;
    remote[k] = {reinterpret_cast<void*>(gps[i]), span};
    local[k] = {bytes.data() + k * span, span};
    ++k;
  }
  std::fill(ok.get(), ok.get() + gps.size(), false);
  mem.read_many(std::span<const iovec>(remote.data(), k), std::span<const iovec>(local.data(), k),
                std::span<bool>(ok.get(), k));
  size_t sampled = 0, bytes_used = 0;
  for (size_t i = 0; i < k; ++i) {
    if (!ok[i]) continue;
    auto u64 = [&](uint32_t off) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + i * span + off, 8);
      return v;
    };
    uint32_t status;
    std::memcpy(&status, bytes.data() + i * span + gl.atomicstatus, 4);
    auto [lo, hi] = stack_to_copy(u64(gl.stack_lo), u64(gl.stack_hi), u64(gl.sched_sp), u64(gl.syscallsp),
                                  status & ~uint32_t{unwind::kGscan});
    ++sampled;
    if (hi > lo && hi - lo <= (64u << 20)) bytes_used += hi - lo;
  }
  if (sampled == 0) return kBase + n * 1024;
  return kBase + static_cast<size_t>(static_cast<double>(bytes_used) / static_cast<double>(sampled) * 1.25 *
                                     static_cast<double>(n));
}

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

}  // namespace

int run_snapshot(const Args& args) {
  SnapshotOptions o;
  if (!parse_snapshot_options(args, o)) return 0;
  PhaseTimer timer;
  const pid_t pid = o.pid;
  const std::string who = "process " + std::to_string(pid);

  // Everything that needs no stop happens first: files, pclntab, runtime globals.
  if (auto usable = unwind::check_target_process(pid); !usable) return fail(usable.error().message());
  // Another user's process: say whose and the real change, before /proc answers "Permission denied".
  if (auto advice = other_user_advice(pid, "snapshot -p " + std::to_string(pid)); !advice.empty()) return fail(advice);
  auto pst = unwind::read_process_status(pid);
  auto space = unwind::AddressSpace::for_process(pid);
  if (!space) return fail(space.error().message());
  auto go = (*space)->go_module();
  if (!go) {
    // A file it runs that cannot be shown to be the one mapped is not read: say that, not "not Go".
    if (auto exe = (*space)->executable(); !exe) return fail(who + " (" + pst.name + "): " + exe.error().message());
    auto unusable = (*space)->open_failures();
    if (!unusable.empty()) {
      return fail(who + " (" + pst.name + "): no Go pclntab in the files that could be read; " +
                  unusable.front().message());
    }
    return fail(who + " (" + pst.name + ") is not a Go program: no Go pclntab in its executable or libraries");
  }
  const symbolize::Module& mod = *go->module;
  const symbolize::BuildInfo* bi = mod.build_info();
  std::string go_version = bi ? bi->go_version : "";
  int minor = bi ? bi->minor_version() : 0;
  auto globals = unwind::find_runtime_globals(mod);
  if (!globals) return fail("cannot find the goroutine list in " + mod.elf().path() + ": " + globals.error().message());
  unwind::ProcessMemory pmem(pid);
  // The table for this Go version, checked against the process's own g's (read without stopping it: a
  // parked g's fields do not move) before it is trusted; another known table where it does not fit.
  auto choice = unwind::verify_layout(pmem, *globals, go->bias, minor);
  if (!choice) return fail("reading the goroutines of " + who + " (Go '" + go_version + "'): " + choice.error().message());
  const unwind::GoRuntimeLayout& layout = *choice->layout;
  if (auto note = unwind::layout_note(*choice, minor, true); !note.empty())
    std::fprintf(stderr, "goperf snapshot: %s\n", note.c_str());
  unwind::GoroutineLister lister(layout, *globals, go->bias, unwind::find_wait_reasons(mod.elf()));
  std::vector<int64_t> tls = unwind::tls_g_offsets(mod.elf());

  std::optional<RecordedDump> old_dump;  // --diff: read before the stop, so that a bad file stops nothing
  if (!o.diff.empty()) {
    auto old = read_goroutine_dump_json(o.diff, o.system ? TracebackLevel::kSystem : TracebackLevel::kAll);
    if (!old) return fail(old.error().message());
    old_dump = std::move(*old);
  }
  timer.mark("setup");
  // The arena for the stack copies, faulted in now: a sample of the goroutines gives its size.
  auto arena = std::make_shared<Arena>(globals->allgs ? estimate_stack_bytes(pmem, globals->allgs + go->bias, layout.g)
                                                      : size_t{4} << 20);
  unwind::CachedMemory cache(&pmem);
  std::vector<ThreadRegisters> threads;
  // The list's memory too (a few hundred bytes per goroutine): faulted in now, reused in the stop.
  unwind::GoroutineList list;
  if (globals->allgs) {
    if (auto n = pmem.read_u64(globals->allgs + go->bias + 8); n && *n <= (4u << 20)) {
      list.goroutines.resize(*n + 1024);
      list.goroutines.clear();
    }
  }
  timer.mark("arena");
  int64_t now = 0;
  uint64_t paused_ns = 0;
  {
    RaisedPriority priority;
    const int64_t t0 = monotonic_ns();
    auto session = unwind::PtraceSession::attach(pid);
    if (!session) return fail(session.error().message());
    const int64_t t1 = monotonic_ns(), c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    // The list straight from the process: the lister reads the g's in a few large ranges into one
    // buffer; nothing of them is needed once they are parsed.
    auto listed = lister.list_into(pmem, list);
    const int64_t t2 = monotonic_ns(), c2 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (!listed) {
      (*session)->detach();
      auto again = unwind::read_process_status(pid);
      if (!again.exists || again.state == 'Z') return fail(who + " exited during the snapshot");
      return fail("reading the goroutine list: " + listed.error().message());
    }
    CopyPlan plan;
    for (const auto& t : (*session)->threads()) {
      threads.push_back({t.tid, t.regs});
      // Which g the thread runs is decided later; reading it now caches the TLS, g and m pages.
      auto f = mod.pclntab()->find_func(t.regs.pc - go->bias);
      auto tg = unwind::current_g(cache, t.regs, f.has_value() && !(f->flag & symbolize::Pclntab::kFlagAsm), layout, tls);
      if (tg && tg->kind == unwind::ThreadG::Kind::kUser) continue;  // on a goroutine stack: copied below
      // g0 / gsignal / C stack: up to its g's stack.hi when known, else a bounded window.
      const unwind::Mapping* m = (*space)->mappings().find(t.regs.sp);
      uint64_t end = std::min<uint64_t>(m ? m->end : t.regs.sp + 4096, t.regs.sp + (256u << 10));
      if (tg) {
        auto hi = cache.read_u64(tg->g + layout.g.stack_hi);
        if (hi && *hi > t.regs.sp && *hi - t.regs.sp < (1u << 20)) end = *hi;
      }
      plan.add(t.regs.sp, end);
    }
    for (const auto& g : list.goroutines) {
      auto [lo, hi] = stack_to_copy(g.stack_lo, g.stack_hi, g.sched_sp, g.syscallsp, g.base_status());
      plan.add(lo, hi);
    }
    const int64_t t3 = monotonic_ns(), c3 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    plan.copy(pmem, cache, arena);
    now = monotonic_ns();
    const int64_t c4 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (std::getenv("GOPERF_SNAPSHOT_TIMING"))
      std::fprintf(stderr, "goperf snapshot: stop %.3f ms, list %.3f ms (cpu %.3f ms), registers+plan %.3f ms, copy %.3f ms (cpu %.3f ms, %zu ranges, %zu KiB into an arena of %zu KiB)\n",
                   (t1 - t0) / 1e6, (t2 - t1) / 1e6, (c2 - c1) / 1e6, (t3 - t2) / 1e6, (now - t3) / 1e6, (c4 - c3) / 1e6, plan.addrs.size(), plan.total >> 10, arena->size >> 10);
    (*session)->detach();
    paused_ns = (*session)->paused_ns();
  }
  cache.detach_backing();
  timer.mark("pause");

  DumpInput in;
  in.memory = &cache;
  in.space = space->get();
  in.layout = &layout;
  in.threads = std::move(threads);
  in.list = &list;
  in.tls_offsets = tls;
  in.now_nanotime = now;
  in.go_version = go_version;
  in.go_minor = minor;
  const DumpOrigin origin = live_dump_origin(pid);
  auto builder = GoroutineDumpBuilder::create(in);
  if (!builder) return fail(builder.error().message());
  const auto level = o.system ? TracebackLevel::kSystem : TracebackLevel::kAll;
  const bool json = o.format == "json";
  int fd = STDOUT_FILENO;
  if (!o.output.empty()) {
    fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return fail("cannot write " + o.output + ": " + std::strerror(errno));
  }
  // Goroutines are built and formatted one at a time into one large buffer, written whenever it fills:
  // nothing per goroutine outlives its text.
  constexpr size_t kFlushAt = 1u << 20;
  DumpBuffer text;
  text.reserve(kFlushAt + (64u << 10));
  std::string json_text;
  bool written = true;
  auto flush = [&] {
    written = written && write_all(fd, text.view()) && write_all(fd, json_text);
    text.clear();
    json_text.clear();
  };
  if (json && !old_dump) append_goroutine_dump_json_head(json_text, in.go_version, in.threads.size(), dump_origin_json_field(origin));
  GoroutineDump g;
  GoroutineFilter filter(o.filter);
  GoroutineGrouper grouper(level);
  size_t kept = 0;
  GoroutineWaits waits(pmem, minor, now);  // the live process: sudogs and channels were not copied
  if (o.waits) waits.prefetch(list);
  std::string wait_fields;
  bool first = true;
  for (size_t i = 0; i < (*builder)->size(); ++i) {
    (*builder)->build(i, g);
    if (!filter.keeps(g, level)) continue;
    if (o.waits) wait_fields = waits.add(g, json);
    if (o.group || old_dump) grouper.add(g);
    if (old_dump) {
      ++kept;
      continue;
    }
    if (json) {
      append_goroutine_dump_json(json_text, g, first, wait_fields);
    } else if (!o.group) {
      if (g.system && level != TracebackLevel::kSystem) continue;  // tracebackothers skips them
      if (!first) text.append("\n");
      append_goroutine_dump_text(text, g, minor, level);
    }
    first = false;
    if (text.size() >= kFlushAt || json_text.size() >= kFlushAt) flush();
  }
  if (old_dump) {
    auto diff = diff_goroutine_dumps(std::move(*old_dump), o.diff, grouper.take_groups(), kept, origin);
    json_text = json ? format_goroutine_diff_json(diff) : format_goroutine_diff_text(diff);
  } else if (o.group && json) append_goroutine_dump_json_tail_with_groups(json_text, grouper.take_groups());
  else if (o.group) json_text += format_goroutine_groups_text(grouper.take_groups());
  else if (json) append_goroutine_dump_json_tail(json_text);
  if (o.waits && !json) json_text += "\n" + waits.summary_text();
  flush();
  if (fd != STDOUT_FILENO) written = ::close(fd) == 0 && written;
  if (!written) return fail("cannot write " + (o.output.empty() ? std::string("the output") : o.output));
  timer.mark("output");
  // Frames in a file that could not be shown to be the one mapped were left unnamed (unwind/mapped_file.h).
  for (const auto& why : (*space)->open_failures()) {
    std::fprintf(stderr, "goperf snapshot: warning: %s: its frames are unknown\n", why.message().c_str());
  }
  if (!o.quiet)
    std::fprintf(stderr, "goperf snapshot: %s paused for %.3f ms (%zu threads, %zu goroutines)\n", who.c_str(),
                 static_cast<double>(paused_ns) / 1e6, in.threads.size(), list.goroutines.size());
  return 0;
}

}  // namespace goperf::profiler

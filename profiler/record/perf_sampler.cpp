// perf_event_open sampler: per-CPU ring buffers fed by per-(thread, CPU) inherited events.
// Record layouts follow include/uapi/linux/perf_event.h (PERF_RECORD_SAMPLE field order).
#include "profiler/record/perf_sampler.h"

#include "profiler/process_owner.h"

#include <linux/perf_event.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <string>

#include "unwind/perf_registers.h"
#include "unwind/process_threads.h"
#include "unwind/sample_unwinder.h"
#include "unwind/thread_perf_events.h"

namespace goperf::profiler {
namespace {


std::vector<int> online_cpus() {
  std::vector<int> cpus;
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  if (in && std::getline(in, text)) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t comma = text.find(',', pos);
      std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      size_t dash = part.find('-');
      int lo = std::atoi(part.c_str());
      int hi = dash == std::string::npos ? lo : std::atoi(part.c_str() + dash + 1);
      for (int c = lo; c <= hi; ++c) cpus.push_back(c);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (cpus.empty()) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

long read_sysctl(const char* path) {
  std::ifstream in(path);
  long v = -1;
  if (in) in >> v;
  return v;
}

Error open_error(int err, const PerfSamplerOptions& o, uint32_t pid) {
  if (err == EACCES || err == EPERM) {
    // Another user's process: perf_event_paranoid is not what stops it (profiler/process_owner.h).
    if (auto advice = other_user_advice(static_cast<pid_t>(pid), "record -p " + std::to_string(pid)); !advice.empty())
      return make_error(ErrorCode::kPermission, "perf_event_open denied: " + advice);
    long paranoid = read_sysctl("/proc/sys/kernel/perf_event_paranoid");
    return make_error(ErrorCode::kPermission,
                      "perf_event_open on process " + std::to_string(pid) +
                          " denied: kernel.perf_event_paranoid=" + std::to_string(paranoid) +
                          "; run as root, grant CAP_PERFMON, or lower it (sysctl kernel.perf_event_paranoid=1)");
  }
  if (err == ESRCH) return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid) + " not found");
  if (err == EINVAL && !o.event.time_based) {
    long max_rate = read_sysctl("/proc/sys/kernel/perf_event_max_sample_rate");
    if (max_rate > 0 && o.frequency_hz > static_cast<uint64_t>(max_rate)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "sampling rate " + std::to_string(o.frequency_hz) +
                            " Hz refused: above kernel.perf_event_max_sample_rate=" + std::to_string(max_rate));
    }
  }
  if (err == ENOENT || err == EOPNOTSUPP) {
    return make_error(ErrorCode::kUnsupported, "event '" + o.event.name + "' is not supported here");
  }
  return make_error(ErrorCode::kIo, std::string("perf_event_open: ") + std::strerror(err));
}

struct Ring {
  int cpu = -1;
  int fd = -1;  // the event whose buffer this is; the CPU's other events write into it
  uint8_t* base = nullptr;
  size_t map_size = 0;
  size_t data_size = 0;
};

class PerfSampler final : public unwind::Sampler {
 public:
  // The tick needs the kernel callchain (it tells whether the tick interrupted the kernel).
  explicit PerfSampler(PerfSamplerOptions o)
      : o_(std::move(o)),
        kernel_chain_(!o_.user_only && (o_.kernel_callchain || o_.plan.tick_every > 0)),
        user_chain_(unwind::vdso_callers_from_kernel_walk(unwind::host_arch())) {
    kernel_samples_ = !o_.user_only;
  }
  ~PerfSampler() override {
    for (auto& r : rings_) {
      if (r.base) munmap(r.base, r.map_size);
    }
    for (int fd : fds_) close(fd);
  }

  Status start() override {
    long max_rate = read_sysctl("/proc/sys/kernel/perf_event_max_sample_rate");
    if (max_rate > 0 && o_.frequency_hz > static_cast<uint64_t>(max_rate)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "sampling rate " + std::to_string(o_.frequency_hz) +
                            " Hz refused: above kernel.perf_event_max_sample_rate=" + std::to_string(max_rate));
    }
    if (o_.frequency_hz == 0) return make_error(ErrorCode::kInvalidArgument, "sampling rate must be > 0");
    cpus_ = online_cpus();
    rings_.resize(cpus_.size());
    return unwind::open_on_target_threads(o_.pids, o_.enable_on_exec,
                                          [&](pid_t tid, uint32_t pid) { return attach_task(tid, pid); });
  }

  Status poll(const Sink& sink, int timeout_ms) override {
    // Wait even when some records are there: the kernel wakes poll() once a ring is a quarter full
    // (wakeup_watermark), else the timeout lets records gather, so that each call drains a batch
    // instead of the one or two samples that arrived since the last call (at 999 Hz that was a
    // drain, a lock and a wake-up of the consumer per sample).
    if (timeout_ms > 0) {
      pfds_.clear();
      for (auto& r : rings_) {
        if (r.fd >= 0) pfds_.push_back({r.fd, POLLIN, 0});
      }
      int ready = ::poll(pfds_.data(), pfds_.size(), timeout_ms);
      bool readable = false;
      for (const auto& p : pfds_) readable = readable || (p.revents & POLLIN) != 0;
      if (ready > 0 && !readable) {
        // POLLHUP only: the target's threads are gone, poll() no longer sleeps. Wait the period anyway.
        timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, nullptr);
      }
    }
    for (auto& r : rings_) {
      if (r.base) drain(r, sink);
    }
    return {};
  }

  void stop() override {
    for (int fd : fds_) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  }

  unwind::SamplerStats stats() const override { return stats_; }
  const char* name() const override { return "perf"; }

 private:
  bool uses_tick() const { return o_.plan.tick_every > 0; }
  bool uses_clock() const { return !uses_tick() || o_.plan.clock_hz > 0; }

  // The event of `event` (-e, or cpu-clock at the plan's rate), or with tick = true the tick's
  // tracepoint. Both kinds share a ring: with the tick, every record carries the event id (tick_ids_
  // tells the kinds apart) and the kernel callchain (which says whether the tick interrupted the kernel).
  perf_event_attr make_attr(bool tick) const {
    perf_event_attr a{};
    a.size = sizeof(a);
    if (tick) {
      a.type = PERF_TYPE_TRACEPOINT;
      a.config = static_cast<uint64_t>(o_.tick_tracepoint_id);
      a.sample_period = o_.plan.tick_every;
    } else {
      a.type = o_.event.type;
      a.config = o_.event.config;
      a.config1 = o_.event.config1;
      a.config2 = o_.event.config2;
      if (o_.plan.clock_hz > 0) {
        a.sample_period = o_.plan.clock_period_ns();
      } else if (o_.event.time_based) {
        a.sample_period = std::max<uint64_t>(1, 1000000000ULL / o_.frequency_hz);  // exact ns per sample
      } else {
        a.freq = 1;
        a.sample_freq = o_.frequency_hz;
      }
    }
    a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER |
                    PERF_SAMPLE_STACK_USER;
    // With PERF_SAMPLE_PERIOD a software event (a tracepoint) samples every occurrence, whatever its
    // sample_period (perf_swevent_event): with the tick, weights come from the plan instead.
    a.sample_type |= uses_tick() ? PERF_SAMPLE_ID : PERF_SAMPLE_PERIOD;
    // The user part is unwound from the stack copy (Go has no frame info the kernel reads right), except
    // above a clock read on g0's stack, whose callers are on the goroutine's stack, outside the copy: there
    // the kernel's frame-pointer walk at the sample gives them (vdso_continuation.cpp; amd64 and
    // arm64 keep the vDSO caller's frame record there).
    if (kernel_chain_ || user_chain_) {
      a.sample_type |= PERF_SAMPLE_CALLCHAIN;
      a.exclude_callchain_kernel = kernel_chain_ ? 0 : 1;
      a.exclude_callchain_user = user_chain_ ? 0 : 1;
    }
    // A tracepoint fires in the kernel: excluding the kernel would exclude every tick.
    a.exclude_kernel = tick || kernel_samples_ ? 0 : 1;
    a.sample_regs_user = unwind::perf_registers(unwind::host_arch()).mask;
    a.sample_stack_user = o_.stack_bytes;
    unwind::set_thread_event_flags(a, o_.enable_on_exec);
    a.exclude_hv = 1;
    a.use_clockid = 1;
    a.clockid = CLOCK_MONOTONIC;
    a.watermark = 1;
    a.wakeup_watermark = static_cast<uint32_t>((static_cast<size_t>(o_.ring_pages) * page_size()) / 4);
    return a;
  }

  // Opens one event of a thread on the CPU of `ring`, writing into that ring.
  Status open_on(int tid, uint32_t pid, size_t cpu_index, bool tick) {
    perf_event_attr a = make_attr(tick);
    int err = 0;
    auto opened = unwind::open_thread_event(a, tid, cpus_[cpu_index], &err);
    if (!opened && !uses_tick() && (err == EACCES || err == EPERM) && kernel_samples_) {
      // Kernel samples need paranoid <= 1 (or CAP_PERFMON): sample user time only.
      kernel_samples_ = false;
      kernel_chain_ = false;
      a = make_attr(tick);
      opened = unwind::open_thread_event(a, tid, cpus_[cpu_index], &err);
    }
    if (!opened) {
      if (err == ENODEV) return {};  // CPU went offline
      if (err == ESRCH) return std::move(opened).error();
      return open_error(err, o_, pid);
    }
    const int fd = *opened;
    fds_.push_back(fd);
    if (tick) {
      // Only the tick's own expiries: the tracepoint fires for every hrtimer of the CPU.
      char filter[64];
      std::snprintf(filter, sizeof(filter), "function == 0x%llx", static_cast<unsigned long long>(o_.tick->handler));
      if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) != 0) {
        return make_error(ErrorCode::kUnsupported, std::string("filtering the tick's tracepoint: ") + std::strerror(errno));
      }
      uint64_t id = 0;
      if (ioctl(fd, PERF_EVENT_IOC_ID, &id) == 0) tick_ids_.insert(id);
    }
    Ring& ring = rings_[cpu_index];
    if (ring.fd < 0) {
      ring.cpu = cpus_[cpu_index];
      ring.fd = fd;
      return map_ring(ring);
    }
    if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring.fd) != 0) {
      return make_error(ErrorCode::kIo, std::string("PERF_EVENT_IOC_SET_OUTPUT: ") + std::strerror(errno));
    }
    return {};
  }

  Status attach_task(int tid, uint32_t pid) {
    for (size_t i = 0; i < cpus_.size(); ++i) {
      if (uses_clock()) {
        if (auto st = open_on(tid, pid, i, false); !st) return st;
      }
      if (uses_tick()) {
        if (auto st = open_on(tid, pid, i, true); !st) return st;
      }
    }
    ++attached_threads_;
    return {};
  }

  static size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

  Status map_ring(Ring& ring) {
    for (uint32_t pages = o_.ring_pages; pages >= 8; pages /= 2) {
      size_t size = (pages + 1) * page_size();
      void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd, 0);
      if (p != MAP_FAILED) {
        ring.base = static_cast<uint8_t*>(p);
        ring.map_size = size;
        ring.data_size = pages * page_size();
        return {};
      }
      if (errno != EPERM && errno != ENOMEM) break;  // locked-memory limit: try a smaller buffer
    }
    return make_error(ErrorCode::kIo, std::string("mmap of the perf ring buffer failed: ") + std::strerror(errno) +
                                          " (see kernel.perf_event_mlock_kb)");
  }

  void drain(Ring& r, const Sink& sink) {
    auto* meta = reinterpret_cast<perf_event_mmap_page*>(r.base);
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    const uint8_t* data = r.base + page_size();
    while (tail < head) {
      size_t off = tail % r.data_size;
      perf_event_header hdr;
      copy_out(data, r.data_size, off, &hdr, sizeof(hdr));
      if (hdr.size < sizeof(hdr)) break;  // corrupt: never expected
      const uint8_t* rec;
      if (off + hdr.size <= r.data_size) {
        rec = data + off;
      } else {
        scratch_.resize(hdr.size);
        copy_out(data, r.data_size, off, scratch_.data(), hdr.size);
        rec = scratch_.data();
      }
      handle(rec, hdr, sink);
      tail += hdr.size;
      stats_.bytes_read += hdr.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  }

  static void copy_out(const uint8_t* data, size_t size, size_t off, void* out, size_t n) {
    size_t first = std::min(n, size - off);
    std::memcpy(out, data + off, first);
    if (first < n) std::memcpy(static_cast<uint8_t*>(out) + first, data, n - first);
  }

  // The record's next word at p (0 past its end), and p moved past it.
  static uint64_t next_u64(const uint8_t*& p, const uint8_t* end) {
    uint64_t v = 0;
    if (p + 8 <= end) std::memcpy(&v, p, 8);
    p += 8;
    return v;
  }

  // A sample's callchain at p: its kernel part into s.kernel_chain (a tick's: what the tick interrupted; a
  // kernel sample's: its frames, or its ip alone without a callchain), its user part (the kernel's
  // frame-pointer walk) into s.user_chain.
  void take_callchain(const uint8_t*& p, const uint8_t* end, bool tick, uint64_t ip, unwind::RawSample& s) {
    if (kernel_chain_ || user_chain_) {
      const uint64_t nr = next_u64(p, end);
      chain_.clear();
      user_pcs_.clear();
      bool user = false;
      for (uint64_t i = 0; i < nr && p < end; ++i) {
        const uint64_t pc = next_u64(p, end);
        if (pc >= static_cast<uint64_t>(PERF_CONTEXT_MAX)) {  // context marker: what follows is its part
          user = pc == static_cast<uint64_t>(PERF_CONTEXT_USER);
          continue;
        }
        (user ? user_pcs_ : chain_).push_back(pc);
      }
      s.user_chain = user_pcs_;
    }
    if (kernel_chain_) {
      if (tick) {
        // A tick sample's own pcs are the hrtimer code: what the tick interrupted is above the entry stub.
        s.kernel_chain = unwind::interrupted_frames(chain_, *o_.tick);
        s.in_kernel = !s.kernel_chain.empty();
      } else if (s.in_kernel) {
        s.kernel_chain = chain_;
      }
    }
    if (s.in_kernel && s.kernel_chain.empty()) {
      chain_.assign(1, ip);
      s.kernel_chain = chain_;
    }
  }

  void handle(const uint8_t* rec, const perf_event_header& hdr, const Sink& sink) {
    const uint8_t* p = rec + sizeof(hdr);
    const uint8_t* end = rec + hdr.size;
    auto u64 = [&] { return next_u64(p, end); };
    switch (hdr.type) {
      case PERF_RECORD_LOST: {
        u64();  // id
        stats_.lost += u64();
        return;
      }
      case PERF_RECORD_LOST_SAMPLES:
        stats_.lost += u64();
        return;
      case PERF_RECORD_SAMPLE:
        break;
      default:
        return;
    }
    unwind::RawSample s;
    s.in_kernel = (hdr.misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;
    uint64_t ip = u64();
    uint64_t pidtid = u64();
    s.pid = static_cast<uint32_t>(pidtid);
    s.tid = static_cast<uint32_t>(pidtid >> 32);
    s.time_ns = u64();
    bool tick = uses_tick() && tick_ids_.count(u64()) != 0;
    s.period = uses_tick() ? 0 : u64();
    if (!o_.plan.empty()) s.period = tick ? o_.plan.tick_weight_ns : o_.plan.clock_weight_ns;
    take_callchain(p, end, tick, ip, s);
    uint64_t abi = u64();
    if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
      const unwind::PerfRegisters& layout = unwind::perf_registers(unwind::host_arch());
      std::array<uint64_t, unwind::kMaxPerfRegisters> values{};
      for (size_t i = 0; i < layout.count; ++i) values[i] = u64();
      layout.to_register_set(std::span<const uint64_t>(values.data(), layout.count), s.user_regs);
    } else if (!s.in_kernel) {
      s.user_regs.pc = ip;
    }
    uint64_t size = u64();
    if (size > 0 && p + size + 8 <= end) {
      const uint8_t* stack = p;
      p += size;
      uint64_t dyn = u64();
      s.stack = std::span<const uint8_t>(stack, std::min(size, dyn));
      s.stack_base = s.user_regs.sp;
    }
    ++stats_.samples;
    sink(s);
  }

  PerfSamplerOptions o_;
  bool kernel_chain_;
  const bool user_chain_;  // the kernel's frame-pointer walk of user space, for clock reads on g0
  std::vector<int> cpus_;
  std::vector<Ring> rings_;
  std::vector<int> fds_;
  std::vector<uint8_t> scratch_;
  std::vector<pollfd> pfds_;
  std::vector<uint64_t> chain_;
  std::vector<uint64_t> user_pcs_;
  std::set<uint64_t> tick_ids_;  // ids of the tick events (records of inherited events carry their parent's id)
  unwind::SamplerStats stats_;
  size_t attached_threads_ = 0;
  bool kernel_samples_ = true;
};

}  // namespace

Result<std::unique_ptr<unwind::Sampler>> make_perf_sampler(const PerfSamplerOptions& options) {
  if (options.pids.empty()) return make_error(ErrorCode::kInvalidArgument, "no process to sample");
  if (options.plan.tick_every > 0 && (!options.tick || options.tick_tracepoint_id < 0)) {
    return make_error(ErrorCode::kInvalidArgument, "tick sampling without the tick's tracepoint");
  }
  if (options.stack_bytes % 8 != 0 || options.stack_bytes > 60000) {
    return make_error(ErrorCode::kInvalidArgument, "stack copy size must be a multiple of 8 below 60000 bytes");
  }
  auto s = std::make_unique<PerfSampler>(options);
  return std::unique_ptr<unwind::Sampler>(std::move(s));
}

}  // namespace goperf::profiler

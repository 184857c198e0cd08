// BpfSampler: loads go_stack.bpf.c (through its generated skeleton), attaches its programs to the
// scheduler tick and/or a sampling perf event on every target thread, as the sampling plan says, and
// turns their ring-buffer records and aggregated counts into unwind::RawSamples.
#include "bpf/bpf_sampler.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_map>

#include "bpf/label_reader.h"
#include "unwind/thread_perf_events.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/perf_registers.h"
#include "unwind/process_memory.h"

#ifdef GOPERF_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>

#include "bpf/go_stack.h"
#include "go_stack.skel.h"
#endif

namespace goperf::bpf {

#ifndef GOPERF_HAVE_BPF

Status bpf_available() {
  return make_error(ErrorCode::kUnsupported, "eBPF backend not built (configure with -DGOPERF_BPF=ON)");
}

Result<std::unique_ptr<unwind::Sampler>> make_bpf_sampler(const BpfSamplerOptions&) {
  return bpf_available().error();
}

#else

namespace {

bool has_cap(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

int quiet_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_WARN && std::getenv("GOPERF_BPF_DEBUG")) return std::vfprintf(stderr, fmt, args);
  return 0;
}

// The memory of each sampled process, for the label sets its samples point to.
class ProcessMemories {
 public:
  const unwind::Memory& of(uint32_t pid) {
    auto it = memories_.find(pid);
    if (it == memories_.end()) it = memories_.emplace(pid, std::make_unique<unwind::ProcessMemory>(static_cast<pid_t>(pid))).first;
    return *it->second;
  }

 private:
  std::unordered_map<uint32_t, std::unique_ptr<unwind::ProcessMemory>> memories_;
};

struct SkelDeleter {
  void operator()(go_stack* s) const { go_stack::destroy(s); }
};
struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};

struct KeyHash {
  size_t operator()(const goperf_agg_key& k) const { return k.hash ^ (uint64_t{k.tgid} << 17); }
};
struct KeyEq {
  bool operator()(const goperf_agg_key& a, const goperf_agg_key& b) const {
    return a.hash == b.hash && a.tgid == b.tgid;
  }
};

// The data of a key's first record, kept until the key's counts are drained.
struct Cached {
  goperf_sample head{};  // stack[] unused: the bytes are in `stack`
  std::vector<uint8_t> stack;
  std::vector<uint64_t> kernel;
};

class BpfSampler final : public unwind::Sampler {
 public:
  explicit BpfSampler(BpfSamplerOptions options) : options_(std::move(options)), labels_(options_.layout ? options_.layout->go_minor : 0) {}
  ~BpfSampler() override { detach(); }

  Status load();
  Status start() override;
  Status poll(const Sink& sink, int timeout_ms) override;
  void stop() override { detach(); }
  unwind::SamplerStats stats() const override { return stats_; }
  const char* name() const override { return "bpf"; }

 private:
  static int on_record(void* ctx, void* data, size_t size);
  void handle_record(const goperf_sample& rec, size_t size);
  void emit(const goperf_sample& head, std::span<const uint8_t> stack, std::span<const uint64_t> kernel,
            uint64_t count, uint64_t period);
  std::vector<uint64_t> kernel_chain(const goperf_sample& rec);
  Status attach_tick();
  Status attach_perf_events();
  void drain();
  void detach() { links_.clear(); stopped_ = true; }
  bool uses_tick() const { return options_.plan.tick_every > 0; }
  // An empty plan samples the perf event at frequency_hz (hardware events, or no tick here).
  bool uses_perf_events() const { return options_.plan.clock_hz > 0 || !uses_tick(); }

  BpfSamplerOptions options_;
  std::unique_ptr<go_stack, SkelDeleter> skel_;
  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;
  std::unordered_map<goperf_agg_key, Cached, KeyHash, KeyEq> cache_;
  // Kernel stacks by id, as read from the stack map: an id's stack never changes (the program does not
  // ask for BPF_F_REUSE_STACKID), and on the tick every record has one, user space or not.
  std::unordered_map<int32_t, std::vector<uint64_t>> kstacks_;
  LabelReader labels_;
  ProcessMemories memories_;
  const Sink* sink_ = nullptr;
  unwind::SamplerStats stats_;
  bool started_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_drain_ = std::chrono::steady_clock::now();
};

Status BpfSampler::load() {
  libbpf_set_print(quiet_print);
  go_stack* raw = go_stack::open();
  if (!raw) return make_error(ErrorCode::kUnsupported, std::string("cannot open the eBPF program: ") + strerror(errno));
  skel_.reset(raw);
  auto& cfg = skel_->rodata->cfg;
  cfg.stack_bytes = std::min<uint32_t>(options_.stack_bytes, GOPERF_MAX_STACK_BYTES);
  if (const unwind::GoRuntimeLayout* l = options_.layout) {
    // Samples on g0/gsignal are charged to m.curg, as runtime/pprof does; a vDSO call runs on g0's stack
    // with g unchanged (m.vdsoSP: its caller's sp on the goroutine's stack); g.sched is where a goroutine
    // that g0 serves (systemstack, morestack) resumes; sp must lie under g.stack.hi for g to be trusted.
    cfg.g_stack_hi_offset = l->g.stack_hi;
    cfg.g_m_offset = l->g.m;
    cfg.m_curg_offset = l->m.curg;
    cfg.m_g0_offset = l->m.g0;
    cfg.m_vdso_sp_offset = l->m.vdso_sp;
    cfg.g_sched_sp_offset = l->g.sched_sp;
    cfg.g_sched_pc_offset = l->g.sched_pc;
    cfg.g_sched_bp_offset = l->g.sched_bp;
    cfg.g_goid_offset = l->g.goid;
    cfg.g_labels_offset = l->g.labels;
  }
  cfg.tls_g_offset = options_.tls_g_offset;
  cfg.capture_kernel = options_.capture_kernel && !options_.user_only ? 1 : 0;
  // One read of g covers every field the program takes from it (read_g in go_stack.bpf.c); a field past
  // GOPERF_G_SPAN_MAX is not read (0), which no Go version's layout comes near (labels at 344-360).
  uint32_t span = 0;
  for (uint32_t* field : {&cfg.g_stack_hi_offset, &cfg.g_m_offset, &cfg.g_goid_offset, &cfg.g_labels_offset,
                          &cfg.g_sched_sp_offset, &cfg.g_sched_pc_offset, &cfg.g_sched_bp_offset}) {
    if (*field + 8 > GOPERF_G_SPAN_MAX) *field = 0;
    span = std::max(span, *field + 8);
  }
  cfg.g_span = cfg.g_stack_hi_offset >= 8 ? span : 0;  // g.stack.lo is the word before stack.hi
  uint32_t m_span = std::max(cfg.m_g0_offset, cfg.m_curg_offset) + 8;
  cfg.m_span = cfg.m_curg_offset && m_span <= GOPERF_G_SPAN_MAX ? m_span : 0;
  const unwind::SamplingPlan& plan = options_.plan;
  if (plan.tick_every > 0) {
    cfg.tick_every = plan.tick_every;
    cfg.tick_handler = options_.tick->handler;
    cfg.tick_weight_ns = plan.tick_weight_ns;
  }
  if (plan.clock_hz > 0) cfg.clock_weight_ns = plan.clock_weight_ns;
  // Only the programs the plan uses are loaded: a kernel without BTF tracing programs (tp_btf) still
  // samples perf events, and a tick-only plan leaves no perf-event program behind.
  bpf_program__set_autoload(skel_->progs.goperf_tick, uses_tick());
  bpf_program__set_autoload(skel_->progs.goperf_sample, uses_perf_events());
  if (int err = go_stack::load(skel_.get()); err) {
    return make_error(err == -EPERM ? ErrorCode::kPermission : ErrorCode::kUnsupported,
                      std::string("cannot load the eBPF program (verifier or kernel): ") + strerror(-err) +
                          " (GOPERF_BPF_DEBUG=1 shows the verifier log)");
  }
  int pids_fd = bpf_map__fd(skel_->maps.pids);
  for (uint32_t pid : options_.pids) {
    uint8_t one = 1;
    if (bpf_map_update_elem(pids_fd, &pid, &one, BPF_ANY))
      return make_error(ErrorCode::kInternal, std::string("adding pid to the eBPF filter: ") + strerror(errno));
  }
  ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.samples), on_record, this, nullptr));
  if (!ring_) return make_error(ErrorCode::kInternal, std::string("ring buffer: ") + strerror(errno));
  return {};
}

Status BpfSampler::start() {
  if (started_) return {};
  if (uses_tick()) {
    if (auto st = attach_tick(); !st) return st;
  }
  if (uses_perf_events()) {
    if (auto st = attach_perf_events(); !st) {
      links_.clear();
      return st;
    }
  }
  started_ = true;
  stopped_ = false;
  last_drain_ = std::chrono::steady_clock::now();
  return {};
}

Status BpfSampler::attach_tick() {
  bpf_link* link = bpf_program__attach_trace(skel_->progs.goperf_tick);
  if (!link) {
    return make_error(ErrorCode::kUnsupported, std::string("attaching the eBPF program to the scheduler tick "
                                                           "(tp_btf/hrtimer_expire_entry): ") + strerror(errno));
  }
  links_.emplace_back(link);
  return {};
}

// One event per thread of each target, inherited by the threads it creates later (with the program), as
// perf record -p does: the event's timer runs only while a target thread runs. Events per CPU ran their
// timer on every CPU whatever ran there, waking idle CPUs F times a second each (a 64-CPU host at 999 Hz:
// 64,000 interrupts a second for one profiled process). The target's own cost did not change measurably
// (bench --mode stolen, 999 Hz, 8 rounds: +0.06 points over the perf backend before and after).
Status BpfSampler::attach_perf_events() {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  if (options_.plan.clock_hz > 0) {
    // The plan's share of the rate: a fixed cpu-clock period, each sample weighing plan.clock_weight_ns.
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = options_.plan.clock_period_ns();
  } else {
    attr.type = options_.perf_type;
    attr.config = options_.perf_config;
    attr.freq = 1;
    attr.sample_freq = options_.frequency_hz;
  }
  unwind::set_thread_event_flags(attr, options_.enable_on_exec);
  attr.exclude_kernel = options_.user_only ? 1 : 0;
  auto open_on = [&](pid_t tid, uint32_t) -> Status {
    auto opened = unwind::open_thread_event(attr, tid, -1);
    if (!opened) return std::move(opened).error();
    const int fd = *opened;
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.goperf_sample, fd);
    if (!link) {
      int e = errno;
      close(fd);
      return make_error(ErrorCode::kUnsupported, std::string("attaching the eBPF program to a perf event: ") + strerror(e));
    }
    links_.emplace_back(link);  // the link owns fd: destroying it closes the event
    return {};
  };
  return unwind::open_on_target_threads(options_.pids, options_.enable_on_exec, open_on);
}

int BpfSampler::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSampler*>(ctx);
  if (size < offsetof(goperf_sample, stack)) return 0;
  self->handle_record(*static_cast<const goperf_sample*>(data), size);
  return 0;
}

// The kernel frames of a record, innermost first. A tick record's stack starts in the tick's own hrtimer
// code: what the tick interrupted are the frames past the interrupt's entry stub (none: user space).
std::vector<uint64_t> BpfSampler::kernel_chain(const goperf_sample& rec) {
  int32_t id = rec.kstack_id;
  if (id < 0) return {};
  auto known = kstacks_.find(id);
  if (known == kstacks_.end()) {
    uint64_t frames[GOPERF_KSTACK_DEPTH] = {};
    uint32_t key = static_cast<uint32_t>(id);
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.kstacks), &key, frames)) return {};
    stats_.bytes_read += sizeof(frames);
    known = kstacks_.emplace(id, std::vector<uint64_t>(frames, std::find(frames, std::end(frames), 0))).first;
  }
  std::span<const uint64_t> chain = known->second;
  if ((rec.flags & GOPERF_F_TICK) && options_.tick) chain = unwind::interrupted_frames(chain, *options_.tick);
  return {chain.begin(), chain.end()};
}

void BpfSampler::handle_record(const goperf_sample& rec, size_t size) {
  stats_.bytes_read += size;
  size_t len = std::min<size_t>(rec.stack_len, size - offsetof(goperf_sample, stack));
  std::span<const uint8_t> stack(rec.stack, len);
  std::vector<uint64_t> kernel = kernel_chain(rec);
  emit(rec, stack, kernel, 1, rec.period);
  if (rec.flags & GOPERF_F_NOAGG) return;
  Cached& c = cache_[goperf_agg_key{rec.hash, rec.tgid, 0}];
  std::memcpy(&c.head, &rec, offsetof(goperf_sample, stack));
  c.stack.assign(stack.begin(), stack.end());
  c.kernel = std::move(kernel);
}

void BpfSampler::emit(const goperf_sample& head, std::span<const uint8_t> stack, std::span<const uint64_t> kernel,
                      uint64_t count, uint64_t period) {
  stats_.samples += count;
  if (!sink_) return;
  unwind::RawSample s;
  s.pid = head.tgid;
  s.tid = head.tid;
  s.time_ns = head.time_ns;
  s.count = count;
  s.period = count ? period / count : period;
  // A tick record's kernel chain holds only what the tick interrupted (kernel_chain()).
  s.in_kernel = (head.flags & GOPERF_F_IN_KERNEL) || ((head.flags & GOPERF_F_TICK) && !kernel.empty());
  // The program runs on this host's kernel: its record's amd64-named fields carry the host's registers
  // (go_stack.bpf.c: r14 is arm64's R28, fs_base its tpidr_el0).
  s.user_regs.arch = unwind::host_arch();
  s.user_regs.pc = head.pc;
  s.user_regs.sp = head.sp;
  s.user_regs.fp = head.fp;
  s.user_regs.g = (head.flags & GOPERF_F_G_VALID) ? head.g : head.r14;
  s.user_regs.tls_base = head.fs_base;
  s.stack_base = head.sp;
  s.stack = stack;
  if (head.stack2_len > 0 && head.stack2_len <= stack.size()) {
    // A vDSO call's record, or g0's serving a goroutine: g0's part at sp, then the goroutine stack's
    // from stack2_addr.
    s.stack = stack.first(stack.size() - head.stack2_len);
    s.stack2_base = head.stack2_addr;
    s.stack2 = stack.last(head.stack2_len);
    if (head.flags & GOPERF_F_SWITCH) {
      unwind::RegisterSet g;
      g.arch = unwind::host_arch();
      g.pc = head.switch_pc;
      g.sp = head.stack2_addr;
      g.fp = head.switch_bp;
      s.goroutine = g;
    }
  }
  s.kernel_chain = kernel;
  s.on_g0_without_goroutine = (head.flags & GOPERF_F_NO_CURG) != 0;
  s.goid = head.goid;
  if (head.labels) {
    s.labels = labels_.get(head.tgid, head.labels, memories_.of(head.tgid));
  }
  (*sink_)(s);
}

// Moves the aggregated counts out of the kernel (deleting them: a key's next sample sends its data again,
// which keeps the user-space cache bounded by what one drain interval sees).
void BpfSampler::drain() {
  int fd = bpf_map__fd(skel_->maps.counts);
  constexpr uint32_t kBatch = 1024;
  std::vector<goperf_agg_key> keys(kBatch);
  std::vector<goperf_agg_value> values(kBatch);
  uint64_t in_batch = 0;
  bool first = true;
  for (;;) {
    uint32_t n = kBatch;
    uint64_t out_batch = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                              values.data(), &n, &opts);
    int e = err ? errno : 0;
    first = false;
    stats_.bytes_read += n * (sizeof(goperf_agg_key) + sizeof(goperf_agg_value));
    for (uint32_t i = 0; i < n; ++i) {
      if (values[i].count == 0) {
        cache_.erase(keys[i]);
        continue;
      }
      auto it = cache_.find(keys[i]);
      if (it == cache_.end()) {
        stats_.lost += values[i].count;  // its record was lost with a full ring buffer
        continue;
      }
      emit(it->second.head, it->second.stack, it->second.kernel, values[i].count, values[i].period);
      cache_.erase(it);
    }
    if (err) {
      if (e != ENOENT) stats_.lost += 0;  // nothing more to do: the next drain retries
      break;
    }
    in_batch = out_batch;
  }
  // Records of keys that were drained before their data arrived: nothing will count them again.
  if (stopped_) cache_.clear();
  // Samples the kernel could not send (ring buffer full): per-CPU counter [1].
  uint32_t idx = 1;
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpu > 0 ? ncpu : 1);
  if (!bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stats), &idx, per_cpu.data())) {
    uint64_t total = 0;
    for (uint64_t v : per_cpu) total += v;
    stats_.lost = std::max(stats_.lost, total);
  }
}

Status BpfSampler::poll(const Sink& sink, int timeout_ms) {
  sink_ = &sink;
  int n = ring_buffer__poll(ring_.get(), stopped_ ? 0 : timeout_ms);
  if (n < 0 && n != -EINTR) {
    sink_ = nullptr;
    return make_error(ErrorCode::kIo, std::string("reading the eBPF ring buffer: ") + strerror(-n));
  }
  // Records do not wake the reader (go_stack.bpf.c): take them at every poll, so that they are unwound
  // within a poll interval, while the process is still there for what a walk reads live (its mappings).
  // Taken before the counts are drained, too, so that drained counts find their records.
  ring_buffer__consume(ring_.get());
  auto now = std::chrono::steady_clock::now();
  if (stopped_ || now - last_drain_ >= std::chrono::milliseconds(options_.drain_interval_ms)) {
    drain();
    last_drain_ = now;
  }
  sink_ = nullptr;
  return {};
}

}  // namespace

Status bpf_available() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return make_error(ErrorCode::kUnsupported,
                      "eBPF backend unavailable: no kernel BTF (/sys/kernel/btf/vmlinux; needs CONFIG_DEBUG_INFO_BTF)");
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) == 0) {
    constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
    bool admin = has_cap(data, kCapSysAdmin);
    if (!admin && !(has_cap(data, kCapBpf) && has_cap(data, kCapPerfmon)))
      return make_error(ErrorCode::kPermission,
                        "eBPF backend unavailable: missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run as root "
                        "or grant them with setcap");
  }
  libbpf_set_print(quiet_print);
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, nullptr) != 1)
    return make_error(ErrorCode::kUnsupported, "eBPF backend unavailable: the kernel has no perf_event BPF programs");
  if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 1)
    return make_error(ErrorCode::kUnsupported, "eBPF backend unavailable: the kernel has no BPF ring buffer (5.8+)");
  for (auto [helper, what] : {std::pair{BPF_FUNC_loop, "bpf_loop (5.17+)"},
                              std::pair{BPF_FUNC_task_pt_regs, "bpf_task_pt_regs (5.15+)"}}) {
    if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, helper, nullptr) != 1)
      return make_error(ErrorCode::kUnsupported, std::string("eBPF backend unavailable: the kernel lacks ") + what);
  }
  return {};
}

Result<std::unique_ptr<unwind::Sampler>> make_bpf_sampler(const BpfSamplerOptions& options) {
  if (options.pids.empty()) return make_error(ErrorCode::kInvalidArgument, "eBPF sampler: no process to sample");
  if (options.pids.size() > GOPERF_MAX_PIDS)
    return make_error(ErrorCode::kInvalidArgument, "eBPF sampler: too many processes");
  if (options.plan.tick_every > 0 && (!options.tick || !options.tick->handler))
    return make_error(ErrorCode::kInvalidArgument, "eBPF sampler: the plan samples the scheduler tick, but no tick was found");
  auto sampler = std::make_unique<BpfSampler>(options);
  if (auto st = sampler->load(); !st) return std::move(st).error();
  return std::unique_ptr<unwind::Sampler>(std::move(sampler));
}

#endif  // GOPERF_HAVE_BPF

}  // namespace goperf::bpf

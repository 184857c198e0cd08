// BpfSampler against this test process: samples arrive with the right pid, registers and stack copy, and
// every program and map the sampler created is gone once it is destroyed. On the scheduler tick: samples
// weigh what the plan says, and a tick that interrupted the kernel keeps only the interrupted frames.
#include "bpf/bpf_sampler.h"

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "unwind/tick_source.h"

namespace goperf::bpf {
namespace {

#define SKIP_WITHOUT_BPF()                                               \
  do {                                                                   \
    if (geteuid() != 0) GTEST_SKIP() << "needs root for BPF";            \
    if (auto st = bpf_available(); !st) GTEST_SKIP() << st.error().message(); \
  } while (0)

// The BPF programs this process holds through a program or link file descriptor, id -> name. Only this
// process's: other test processes (ctest -j) load the same programs.
std::map<uint32_t, std::string> own_programs() {
  std::map<uint32_t, std::string> programs;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream in(entry.path());
    std::string key;
    uint32_t id = 0;
    while (in >> key) {
      if (key == "prog_id:" && in >> id) break;
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    if (!id || programs.count(id)) continue;
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) programs.emplace(id, info.name);
    close(fd);
  }
  return programs;
}

size_t count_named(const std::map<uint32_t, std::string>& programs, const std::string& name) {
  size_t n = 0;
  for (const auto& [id, prog_name] : programs) n += prog_name == name;
  return n;
}

// Whether the kernel has freed all these programs within 5 s: it frees a program after an RCU grace period,
// some time after its last reference is gone (longer for tracing programs).
bool all_freed(const std::map<uint32_t, std::string>& programs) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    size_t alive = 0;
    for (const auto& [id, name] : programs) {
      int fd = bpf_prog_get_fd_by_id(id);
      if (fd >= 0) {
        ++alive;
        close(fd);
      }
    }
    if (alive == 0) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(BpfAvailable, SaysWhatIsMissingOrSucceeds) {
  auto st = bpf_available();
  if (!st) {
    EXPECT_NE(st.error().message().find("eBPF backend unavailable"), std::string::npos) << st.error().message();
    EXPECT_EQ(st.error().message().find('\n'), std::string::npos);
  }
}

TEST(BpfSampler, RejectsEmptyPidList) {
  BpfSamplerOptions o;
  auto s = make_bpf_sampler(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(BpfSampler, TickPlanWithoutTickIsRejected) {
  BpfSamplerOptions o;
  o.pids = {static_cast<uint32_t>(getpid())};
  o.plan.tick_every = 2;
  o.plan.tick_weight_ns = 8000000;
  auto s = make_bpf_sampler(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("tick"), std::string::npos) << s.error().message();
}

TEST(BpfSampler, SamplesThisProcessAndReleasesEverything) {
  SKIP_WITHOUT_BPF();
  struct Spinner {
    std::atomic<bool> run{true};
    std::thread t{[this] {
      volatile uint64_t x = 1;
      while (run.load(std::memory_order_relaxed)) x = x * 3 + 1;
    }};
    ~Spinner() {
      run = false;
      t.join();
    }
  } spinner;
  uint64_t delivered = 0, with_stack = 0, bad = 0;
  unwind::SamplerStats stats;
  std::map<uint32_t, std::string> programs;
  {
    BpfSamplerOptions o;
    o.pids = {static_cast<uint32_t>(getpid())};
    o.frequency_hz = 999;
    o.drain_interval_ms = 100;
    auto made = make_bpf_sampler(o);
    ASSERT_TRUE(made.ok()) << made.error().message();
    auto& sampler = *made;
    EXPECT_STREQ(sampler->name(), "bpf");
    ASSERT_TRUE(sampler->start().ok());
    programs = own_programs();
    EXPECT_EQ(count_named(programs, "goperf_sample"), 1u);
    auto sink = [&](const unwind::RawSample& s) {
      delivered += s.count;
      if (s.pid != static_cast<uint32_t>(getpid()) || s.count == 0 || s.stack_base != s.user_regs.sp) ++bad;
      if (!s.stack.empty()) ++with_stack;
    };
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
    while (std::chrono::steady_clock::now() < end) ASSERT_TRUE(sampler->poll(sink, 50).ok());
    sampler->stop();
    ASSERT_TRUE(sampler->poll(sink, 0).ok());
    stats = sampler->stats();
  }
  // ~600 samples expected at 999 Hz on one busy thread; allow a loaded machine.
  EXPECT_GT(delivered, 50u);
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(with_stack, 0u);
  EXPECT_EQ(stats.samples, delivered);
  EXPECT_GT(stats.bytes_read, 0u);
  EXPECT_TRUE(own_programs().empty());
  EXPECT_TRUE(all_freed(programs));
}

// A thread of this process that keeps a CPU busy: in user space (spin), or in the kernel (short system
// calls, most of its time in the kernel).
class Busy {
 public:
  enum Kind { kSpin, kSyscalls };
  explicit Busy(Kind kind)
      : thread_([this, kind] {
          volatile uint64_t x = 1;
          while (run_.load(std::memory_order_relaxed)) {
            if (kind == kSpin) {
              x = x * 3 + 1;
            } else {
              syscall(SYS_getppid);
            }
          }
        }) {}
  ~Busy() {
    run_ = false;
    thread_.join();
  }

 private:
  std::atomic<bool> run_{true};
  std::thread thread_;
};

// What a sampler delivered, with each sample's kernel chain kept (spans die with the callback).
struct Delivered {
  uint64_t samples = 0;
  std::map<uint64_t, uint64_t> by_period;  // period -> samples
  uint64_t in_kernel = 0, kernel_with_chain = 0, user_with_chain = 0;
  std::vector<std::vector<uint64_t>> kernel_chains;
  std::map<uint32_t, std::string> programs_while_running;
  // CPU time this process ran while sampled: the samples a busy thread can give follow it, not the wall
  // clock (on a loaded machine the thread runs a fraction of the second).
  double cpu_seconds = 0;
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Delivered sample_for(const BpfSamplerOptions& o, int ms) {
  Delivered d;
  auto made = make_bpf_sampler(o);
  EXPECT_TRUE(made.ok()) << made.error().message();
  if (!made.ok()) return d;
  auto& sampler = *made;
  auto st = sampler->start();
  EXPECT_TRUE(st.ok()) << st.error().message();
  if (!st.ok()) return d;
  d.programs_while_running = own_programs();
  auto sink = [&](const unwind::RawSample& s) {
    d.samples += s.count;
    d.by_period[s.period] += s.count;
    if (s.in_kernel) {
      d.in_kernel += s.count;
      if (!s.kernel_chain.empty()) {
        d.kernel_with_chain += s.count;
        d.kernel_chains.emplace_back(s.kernel_chain.begin(), s.kernel_chain.end());
      }
    } else if (!s.kernel_chain.empty()) {
      d.user_with_chain += s.count;
    }
  };
  const double cpu0 = process_cpu_seconds();
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) EXPECT_TRUE(sampler->poll(sink, 50).ok());
  sampler->stop();
  d.cpu_seconds = process_cpu_seconds() - cpu0;
  EXPECT_TRUE(sampler->poll(sink, 0).ok());
  return d;
}

// The kernel's text symbols, sorted, to name the function an address lies in.
std::map<uint64_t, std::string> kernel_text_symbols() {
  std::map<uint64_t, std::string> syms;
  std::ifstream in("/proc/kallsyms");
  std::string addr, type, name;
  while (in >> addr >> type >> name) {
    if (type == "t" || type == "T") syms.emplace(std::stoull(addr, nullptr, 16), name);
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return syms;
}

std::string function_at(const std::map<uint64_t, std::string>& syms, uint64_t pc) {
  auto it = syms.upper_bound(pc);
  return it == syms.begin() ? "" : std::prev(it)->second;
}

#define SKIP_WITHOUT_TICK(tick)                                                     \
  SKIP_WITHOUT_BPF();                                                               \
  auto tick = unwind::find_tick_source();                                           \
  if (!tick.ok()) GTEST_SKIP() << "no scheduler tick: " << tick.error().message(); \
  do {                                                                              \
  } while (0)

// Options sampling this process at `hz` on the tick's plan (tick may be null: cpu-clock alone).
BpfSamplerOptions options_at(uint64_t hz, const unwind::TickSource* tick) {
  BpfSamplerOptions o;
  o.pids = {static_cast<uint32_t>(getpid())};
  if (tick) o.tick = *tick;
  o.frequency_hz = hz;
  o.plan = unwind::plan_sampling(hz, tick);
  o.drain_interval_ms = 100;
  return o;
}

TEST(BpfSampler, TickSamplesWeighTheirShareOfTicksAndLeaveNoPerfEventProgram) {
  SKIP_WITHOUT_TICK(tick);
  Busy busy(Busy::kSpin);
  BpfSamplerOptions o = options_at(tick->hz() / 2, &*tick);  // every 2nd tick
  ASSERT_EQ(o.plan.tick_every, 2u);
  ASSERT_EQ(o.plan.clock_hz, 0u);
  Delivered d = sample_for(o, 1000);
  EXPECT_EQ(count_named(d.programs_while_running, "goperf_tick"), 1u);
  EXPECT_EQ(count_named(d.programs_while_running, "goperf_sample"), 0u);  // no perf event asked for
  // One busy thread takes HZ ticks a second of its CPU time, of which every 2nd is sampled: HZ/2 per CPU
  // second; a quarter of that at least (this process's other threads add CPU time but few ticks).
  ASSERT_GT(d.cpu_seconds, 0.05) << "the busy thread did not run";
  EXPECT_GT(static_cast<double>(d.samples), d.cpu_seconds * static_cast<double>(tick->hz()) / 8)
      << "HZ " << tick->hz() << ", " << d.cpu_seconds << " s of CPU";
  EXPECT_LT(d.samples, 3 * tick->hz());
  // Each sample stands for the CPU time of two ticks.
  ASSERT_EQ(d.by_period.size(), 1u);
  EXPECT_EQ(d.by_period.begin()->first, 2 * tick->tick_ns);
  // A spinning thread is interrupted in user space: no kernel frames (the tick's own are cut off).
  EXPECT_EQ(d.user_with_chain, 0u);
  EXPECT_LT(d.in_kernel * 10, d.samples) << d.in_kernel << " of " << d.samples << " in the kernel";
  EXPECT_TRUE(own_programs().empty());
  EXPECT_TRUE(all_freed(d.programs_while_running));
}

TEST(BpfSampler, TickSamplesInTheKernelKeepOnlyTheInterruptedFrames) {
  SKIP_WITHOUT_TICK(tick);
  Busy busy(Busy::kSyscalls);
  BpfSamplerOptions o = options_at(tick->hz(), &*tick);  // every tick
  ASSERT_EQ(o.plan.tick_every, 1u);
  Delivered d = sample_for(o, 1000);
  // getppid in a loop spends most of its time in the kernel.
  ASSERT_GT(d.kernel_with_chain, 20u) << d.samples << " samples, " << d.in_kernel << " in the kernel";
  EXPECT_EQ(d.in_kernel, d.kernel_with_chain);
  // The chains are the system call's: none of the tick's hrtimer code or the interrupt's entry, and
  // the outermost frame is the system call entry.
  auto syms = kernel_text_symbols();
  size_t from_syscall_entry = 0;
  for (const auto& chain : d.kernel_chains) {
    for (uint64_t pc : chain) {
      std::string f = function_at(syms, pc);
      EXPECT_TRUE(f.find("hrtimer") == std::string::npos && f != "tick_nohz_handler" &&
                  f.find("sysvec_apic_timer_interrupt") == std::string::npos)
          << f << " in a tick sample's chain";
    }
    if (function_at(syms, chain.back()).starts_with("entry_SYSCALL_64")) ++from_syscall_entry;
  }
  EXPECT_GE(from_syscall_entry * 10, d.kernel_chains.size() * 9)
      << from_syscall_entry << " of " << d.kernel_chains.size() << " chains start at the system call entry";
}

TEST(BpfSampler, TickPlusCpuClockWeighsEverySampleAlike) {
  SKIP_WITHOUT_TICK(tick);
  Busy busy(Busy::kSpin);
  uint64_t hz = 4ull * tick->hz();  // every tick, plus cpu-clock at 3 x HZ
  BpfSamplerOptions o = options_at(hz, &*tick);
  ASSERT_EQ(o.plan.tick_every, 1u);
  ASSERT_EQ(o.plan.clock_hz, 3ull * tick->hz());
  Delivered d = sample_for(o, 1000);
  EXPECT_EQ(count_named(d.programs_while_running, "goperf_tick"), 1u);
  EXPECT_EQ(count_named(d.programs_while_running, "goperf_sample"), 1u);
  ASSERT_EQ(d.by_period.size(), 1u);
  EXPECT_EQ(d.by_period.begin()->first, 1000000000ull / hz);
  // ~4 x HZ samples per CPU second of one busy thread; the cpu-clock share alone is 3/4 of them.
  ASSERT_GT(d.cpu_seconds, 0.05) << "the busy thread did not run";
  EXPECT_GT(static_cast<double>(d.samples), d.cpu_seconds * static_cast<double>(hz) / 3)
      << d.cpu_seconds << " s of CPU";
  EXPECT_LT(d.samples, 3 * hz);
  EXPECT_TRUE(own_programs().empty());
  EXPECT_TRUE(all_freed(d.programs_while_running));
}

TEST(BpfSampler, CpuClockPlanUsesAFixedPeriod) {
  SKIP_WITHOUT_BPF();
  Busy busy(Busy::kSpin);
  BpfSamplerOptions o = options_at(500, nullptr);  // no tick: cpu-clock at 500 Hz, each 2 ms
  Delivered d = sample_for(o, 600);
  EXPECT_EQ(count_named(d.programs_while_running, "goperf_tick"), 0u);
  ASSERT_EQ(d.by_period.size(), 1u);
  EXPECT_EQ(d.by_period.begin()->first, 2000000u);
  ASSERT_GT(d.cpu_seconds, 0.05) << "the busy thread did not run";
  EXPECT_GT(static_cast<double>(d.samples), d.cpu_seconds * 500 / 3) << d.cpu_seconds << " s of CPU";
}

}  // namespace
}  // namespace goperf::bpf

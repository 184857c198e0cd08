// goperf record: sample live Go processes into a gzip pprof profile.
// Flow: resolve the event, attach the sampler (perf, or eBPF with --backend), drain samples into the
// SampleSymbolizer until Ctrl-C / -d / the target's exit, then write the profile. The target is never
// stopped or signalled.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "bpf/bpf_sampler.h"
#include "bpf/go_target.h"
#include "flamegraph/pprof_writer.h"
#include "profiler/commands.h"
#include "profiler/perf_event_spec.h"
#include "profiler/perf_sampler.h"
#include "profiler/record_child.h"
#include "profiler/record_drain.h"
#include "profiler/record_goroutines.h"
#include "profiler/record_options.h"
#include "profiler/record_sampling.h"
#include "profiler/sample_symbolizer.h"

namespace goperf::profiler {
namespace {

std::atomic<int> g_stop_signal{0};

void on_signal(int sig) { g_stop_signal.store(sig); }

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf record: %s\n", message.c_str());
  return 1;
}

std::string process_name(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (in) std::getline(in, name);
  return name.empty() ? "process" : name;
}

bool process_alive(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return false;
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

std::string default_output(const std::string& prog, uint32_t pid) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  std::string base = prog;
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  for (char& c : base) {
    if (c == ' ' || c == '/') c = '_';
  }
  return base + "-" + std::to_string(pid) + "-" + stamp + ".pb.gz";
}

// Fails early, before any recording, when the output cannot be written.
Status check_writable(const std::string& path) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  if (access(dir.c_str(), W_OK) != 0) {
    return make_error(ErrorCode::kIo, "cannot write the output " + path + ": " + std::strerror(errno));
  }
  if (access(path.c_str(), F_OK) == 0 && access(path.c_str(), W_OK) != 0) {
    return make_error(ErrorCode::kIo, "cannot write the output " + path + ": " + std::strerror(errno));
  }
  return {};
}

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The executable a target runs: /proc/PID/exe, or for `-- CMD` (not exec'd yet) CMD looked up in PATH.
std::string target_executable(const RecordOptions& o, uint32_t pid) {
  if (o.command.empty()) return "/proc/" + std::to_string(pid) + "/exe";
  const std::string& cmd = o.command[0];
  if (cmd.find('/') != std::string::npos) return cmd;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t pos = 0; pos <= dirs.size();) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end > pos ? dirs.substr(pos, end - pos) : ".") + "/" + cmd;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return cmd;
}

// Default stack copy per sample. perf: the kernel copies the full amount on every sample (in the
// target's time), and 8 KiB holds all of most Go stacks (perf's own --call-graph dwarf default); frames
// above it are read live (StackWindowMemory::set_live_tail). bpf copies only sp .. g.stack.hi.
constexpr uint32_t kPerfStackBytes = 8192;
constexpr uint32_t kBpfStackBytes = 32768;

Result<std::unique_ptr<unwind::Sampler>> make_bpf(const RecordOptions& o, const SamplingChoice& sampling,
                                                  const std::vector<uint32_t>& pids, bool child) {
  if (auto available = bpf::bpf_available(); !available) return std::move(available).error();
  bpf::BpfSamplerOptions bo;
  bo.pids = pids;
  bo.frequency_hz = o.frequency_hz;
  bo.perf_type = sampling.event.type;
  bo.perf_config = sampling.event.config;
  bo.tick = sampling.tick;
  bo.plan = sampling.plan;
  bo.enable_on_exec = child;
  bo.stack_bytes = o.stack_bytes != 0 ? o.stack_bytes : kBpfStackBytes;
  // Go version -> g offsets, PT_TLS -> g's TLS slot: goroutine ids and pprof labels per sample.
  auto note = bpf::configure_for_executable(bo, target_executable(o, pids[0]));
  if (!note) {
    std::fprintf(stderr, "goperf record: %s: goroutine ids and labels are not recorded\n",
                 note.error().message().c_str());
  } else if (!note->empty()) {
    std::fprintf(stderr, "goperf record: %s\n", note->c_str());
  }
  return bpf::make_bpf_sampler(bo);
}

// The note on how CPU time is sampled is printed once the backend is known to accept it.
Result<std::unique_ptr<unwind::Sampler>> make_sampler(const RecordOptions& o, const SamplingChoice& sampling,
                                                      const std::vector<uint32_t>& pids, bool child) {
  auto tell = [&] {
    if (!sampling.note.empty()) std::fprintf(stderr, "goperf record: %s\n", sampling.note.c_str());
  };
  if (o.backend == "bpf" || o.backend == "auto") {
    auto sampler = make_bpf(o, sampling, pids, child);
    if (sampler || o.backend == "bpf") {
      if (sampler) tell();
      return sampler;
    }
    std::fprintf(stderr, "goperf record: %s: using the perf backend\n", sampler.error().message().c_str());
  }
  auto tracepoint = tick_tracepoint_for_perf(sampling);
  if (!tracepoint) return std::move(tracepoint).error();
  tell();
  PerfSamplerOptions po;
  po.pids = pids;
  po.enable_on_exec = child;
  po.event = sampling.event;
  po.tick = sampling.tick;
  po.plan = sampling.plan;
  po.tick_tracepoint_id = *tracepoint;
  po.frequency_hz = o.frequency_hz;
  po.stack_bytes = o.stack_bytes != 0 ? o.stack_bytes : kPerfStackBytes;
  return make_perf_sampler(po);
}

}  // namespace

int run_record(const Args& args) {
  RecordOptions o;
  if (!parse_record_options(args, o)) return 0;

  auto chosen = choose_sampling(o.event, o.frequency_hz);
  if (!chosen) return fail(chosen.error().message());
  SamplingChoice sampling = std::move(*chosen);

  std::vector<uint32_t> pids = o.pids;
  for (uint32_t pid : pids) {
    if (!process_alive(pid)) return fail("process " + std::to_string(pid) + " not found");
  }
  std::string prog = o.command.empty() ? process_name(pids[0]) : o.command[0];

  std::optional<ChildProcess> child;
  if (!o.command.empty()) {
    auto spawned = ChildProcess::spawn(o.command);
    if (!spawned) return fail(spawned.error().message());
    child.emplace(std::move(*spawned));
    pids = {static_cast<uint32_t>(child->pid())};
  }
  std::string output = o.output.empty() ? default_output(prog, pids[0]) : o.output;
  if (auto st = check_writable(output); !st) {
    if (child) {
      // The child has not exec'd yet: let it go and leave it alone.
      (void)child->release();
    }
    return fail(st.error().message());
  }
  if (o.goroutines && o.event.empty()) return record_goroutines(o, prog, output);  // profiler/record_goroutines.cpp

  auto sampler = make_sampler(o, sampling, pids, child.has_value());
  const EventSpec& event = sampling.event;
  if (!sampler) {
    if (child) (void)child->release();
    return fail(sampler.error().message());
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  SampleSymbolizerOptions so;
  so.pids = pids;
  so.event_name = event.name;
  so.time_based = event.time_based;
  so.period = sampling.period(o.frequency_hz);
  std::optional<SampleSymbolizer> symbolizer;
  // A running target's modules are opened before sampling starts, so the first samples are drained
  // at once instead of waiting in the ring buffers.
  if (!child) symbolizer.emplace(so);

  if (auto st = (*sampler)->start(); !st) {
    if (child) (void)child->release();
    return fail(st.error().message());
  }
  if (child) {
    if (auto st = child->release(); !st) return fail(st.error().message());
  }

  if (!symbolizer) symbolizer.emplace(so);  // after exec: the child's maps are its program's
  std::thread goroutines;  // -e goroutines,EVENT: the goroutine states beside, into their own file
  if (o.goroutines) goroutines = std::thread([&] { record_goroutines(o, prog, goroutines_output(output), &g_stop_signal); });
  SampleDrain drain(**sampler);
  drain.start();
  std::vector<OwnedSample> batch;
  auto consume = [&](int timeout_ms) {
    bool more = drain.take(batch, timeout_ms);
    for (const auto& b : batch) symbolizer->add(b.sample);
    drain.recycle(batch);
    return more;
  };

  const int64_t start_unix = now_ns(CLOCK_REALTIME);
  const int64_t start = now_ns(CLOCK_MONOTONIC);
  const int64_t deadline = o.duration_s > 0 ? start + static_cast<int64_t>(o.duration_s * 1e9) : INT64_MAX;
  const bool tty = isatty(STDERR_FILENO) && !o.quiet;
  int64_t next_progress = start + 1000000000;
  int64_t next_alive_check = start + 200000000;
  std::string stop_reason = "duration elapsed";
  if (!o.quiet) {
    std::fprintf(stderr, "goperf record: sampling %s of %s (pid %u%s) at %llu Hz with %s; Ctrl-C to stop\n",
                 sampling.tick ? "CPU time" : event.name.c_str(), prog.c_str(), pids[0], pids.size() > 1 ? ", ..." : "",
                 static_cast<unsigned long long>(o.frequency_hz), (*sampler)->name());
  }
  for (;;) {
    consume(100);
    int64_t now = now_ns(CLOCK_MONOTONIC);
    if (g_stop_signal.load() != 0) {
      stop_reason = g_stop_signal.load() == SIGINT ? "interrupted" : "terminated";
      break;
    }
    if (now >= deadline) break;
    if (now >= next_alive_check) {
      next_alive_check = now + 200000000;
      bool any = false;
      if (child) {
        any = !child->exited();
      } else {
        for (uint32_t pid : pids) any = any || process_alive(pid);
      }
      if (!any) {
        stop_reason = "target exited";
        break;
      }
    }
    if (tty && now >= next_progress) {
      next_progress = now + 1000000000;
      auto st = drain.stats();
      std::fprintf(stderr, "\r  %.0fs  %llu samples  %llu lost   ", (now - start) / 1e9,
                   static_cast<unsigned long long>(st.samples), static_cast<unsigned long long>(st.lost));
      std::fflush(stderr);
    }
  }
  drain.finish();
  while (consume(0)) {
  }
  if (goroutines.joinable()) {
    if (stop_reason == "target exited" && g_stop_signal.load() == 0) g_stop_signal.store(SIGTERM);
    goroutines.join();
  }
  const int64_t duration = now_ns(CLOCK_MONOTONIC) - start;
  if (tty) std::fprintf(stderr, "\n");

  auto stats = drain.stats();
  auto profile = symbolizer->finish(start_unix, duration);
  if (auto st = flamegraph::write_pprof_file(profile, output); !st) return fail(st.error().message());
  const auto& sym = symbolizer->stats();
  std::fprintf(stderr,
               "goperf record: %s after %.1fs: %llu samples, %llu lost, %llu of %llu frames unknown, "
               "%llu bytes from the kernel\n",
               stop_reason.c_str(), duration / 1e9, static_cast<unsigned long long>(stats.samples),
               static_cast<unsigned long long>(stats.lost), static_cast<unsigned long long>(sym.unknown_frames),
               static_cast<unsigned long long>(sym.frames), static_cast<unsigned long long>(stats.bytes_read));
  if (o.verbose) {
    std::fprintf(stderr,
                 "goperf record: %llu incomplete stacks, %llu continued on the goroutine, %llu pcs symbolized\n",
                 static_cast<unsigned long long>(sym.incomplete), static_cast<unsigned long long>(sym.switched),
                 static_cast<unsigned long long>(sym.pc_cache_misses));
    std::fprintf(stderr, "goperf record: stack copy used by complete walks:");
    static constexpr const char* kBuckets[] = {"<=512B", "<=1K", "<=2K", "<=4K", "<=8K", "<=16K", "<=32K", ">32K"};
    for (size_t i = 0; i < sym.window_used.size(); ++i) {
      std::fprintf(stderr, " %s %llu", kBuckets[i], static_cast<unsigned long long>(sym.window_used[i]));
    }
    std::fprintf(stderr, "; continued above the copy (live) %llu, cut there %llu\n",
                 static_cast<unsigned long long>(sym.live_tail), static_cast<unsigned long long>(sym.window_cut));
  }
  std::fprintf(stderr, "goperf record: wrote %s\nview it with: goperf report -i %s\n", output.c_str(), output.c_str());
  if (child && !child->exited()) child->wait(2000);  // let the child finish its own Ctrl-C handling
  return 0;
}

}  // namespace goperf::profiler

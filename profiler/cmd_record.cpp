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
#include "unwind/process_status.h"
#include "unwind/stack_walker.h"

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

// The program `-- CMD` is about to run (not exec'd yet): CMD, looked up in PATH.
std::string command_executable(const std::vector<std::string>& command) {
  const std::string& cmd = command[0];
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

// `notes` gets what the user should know once recording starts (not before: a command that cannot run
// is one line of error, nothing else).
Result<std::unique_ptr<unwind::Sampler>> make_bpf(const RecordOptions& o, const SamplingChoice& sampling,
                                                  const std::vector<uint32_t>& pids, bool child,
                                                  std::vector<std::string>& notes) {
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
  // A running target: the executable it mapped, whatever has become of its path since it started.
  auto note = o.command.empty() ? bpf::configure_for_process(bo, static_cast<pid_t>(pids[0]))
                                : bpf::configure_for_executable(bo, command_executable(o.command));
  if (!note) {
    notes.push_back(note.error().message() + ": goroutine ids and labels are not recorded");
  } else if (!note->empty()) {
    notes.push_back(*note);
  }
  return bpf::make_bpf_sampler(bo);
}

struct ChosenSampler {
  std::unique_ptr<unwind::Sampler> sampler;
  std::string fallback;  // --backend auto: why the eBPF backend is not used ("" when it is, or not asked)
  std::vector<std::string> notes;  // to print once sampling has started
};

// --backend auto (the default) takes the eBPF backend wherever it loads: its g0 and vDSO samples reach
// the goroutine's root because it copies the goroutine's stack at the sample (docs/bpf_backend.md),
// which perf_event cannot. The note on how CPU time is sampled is printed once a backend accepts it.
Result<ChosenSampler> make_sampler(const RecordOptions& o, const SamplingChoice& sampling,
                                   const std::vector<uint32_t>& pids, bool child) {
  auto tell = [&] {
    if (!sampling.note.empty()) std::fprintf(stderr, "goperf record: %s\n", sampling.note.c_str());
  };
  ChosenSampler chosen;
  if (o.backend == "bpf" || o.backend == "auto") {
    auto sampler = make_bpf(o, sampling, pids, child, chosen.notes);
    if (!sampler && o.backend == "bpf") return std::move(sampler).error();
    if (sampler) {
      tell();
      chosen.sampler = std::move(*sampler);
      return chosen;
    }
    chosen.fallback = sampler.error().message();
    chosen.notes.clear();  // about goroutine labels, which only the eBPF backend records
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
  auto sampler = make_perf_sampler(po);
  if (!sampler) return std::move(sampler).error();
  chosen.sampler = std::move(*sampler);
  return chosen;
}

// "the eBPF backend", "the perf backend", "the perf backend (eBPF backend unavailable: ...)".
std::string backend_phrase(const ChosenSampler& chosen) {
  std::string name = std::string(chosen.sampler->name()) == "bpf" ? "the eBPF backend" : "the perf backend";
  if (!chosen.fallback.empty()) name += " (" + chosen.fallback + ")";
  return name;
}

// The stacks that reached their root (goexit, mstart, an mcall, a C thread's start), of all samples.
std::string complete_share(const SymbolizerStats& sym) {
  if (sym.taken == 0) return "no stacks";
  char text[96];
  uint64_t complete = sym.taken - sym.truncated;
  std::snprintf(text, sizeof(text), "%llu of %llu stacks complete (%.1f%%)", static_cast<unsigned long long>(complete),
                static_cast<unsigned long long>(sym.taken), 100.0 * static_cast<double>(complete) / sym.taken);
  return text;
}

}  // namespace

int run_record(const Args& args) {
  RecordOptions o;
  if (!parse_record_options(args, o)) return 0;

  // The targets first: a wrong -p is the one line printed, before any note about the event.
  std::vector<uint32_t> pids = o.pids;
  for (uint32_t pid : pids) {
    if (auto usable = unwind::check_target_process(static_cast<pid_t>(pid)); !usable) return fail(usable.error().message());
  }
  auto chosen = choose_sampling(o.event, o.frequency_hz);
  if (!chosen) return fail(chosen.error().message());
  SamplingChoice sampling = std::move(*chosen);

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

  auto backend = make_sampler(o, sampling, pids, child.has_value());
  const EventSpec& event = sampling.event;
  if (!backend) {
    if (child) (void)child->release();
    return fail(backend.error().message());
  }
  auto& sampler = backend->sampler;

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

  if (auto st = sampler->start(); !st) {
    if (child) (void)child->release();
    return fail(st.error().message());
  }
  if (child) {
    if (auto st = child->release(); !st) return fail(st.error().message());
  }
  for (const auto& note : backend->notes) std::fprintf(stderr, "goperf record: %s\n", note.c_str());

  if (!symbolizer) symbolizer.emplace(so);  // after exec: the child's maps are its program's
  std::thread goroutines;  // -e goroutines,EVENT: the goroutine states beside, into their own file
  if (o.goroutines) goroutines = std::thread([&] { record_goroutines(o, prog, goroutines_output(output), &g_stop_signal); });
  SampleDrain drain(*sampler);
  drain.start();
  std::vector<unwind::OwnedRawSample> batch;
  auto consume = [&](int timeout_ms) {
    bool more = drain.take(batch, timeout_ms);
    for (const auto& b : batch) symbolizer->add(b.sample());
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
                 static_cast<unsigned long long>(o.frequency_hz), backend_phrase(*backend).c_str());
  } else if (!backend->fallback.empty()) {
    std::fprintf(stderr, "goperf record: with the perf backend (%s)\n", backend->fallback.c_str());
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
  for (const auto& why : sym.unusable_files) {
    std::fprintf(stderr, "goperf record: %s: its frames are unknown\n", why.c_str());
  }
  std::fprintf(stderr,
               "goperf record: %s after %.1fs: %llu samples, %llu lost, %s, %llu of %llu frames unknown, "
               "%llu bytes from the kernel\n",
               stop_reason.c_str(), duration / 1e9, static_cast<unsigned long long>(stats.samples),
               static_cast<unsigned long long>(stats.lost), complete_share(sym).c_str(),
               static_cast<unsigned long long>(sym.unknown_frames), static_cast<unsigned long long>(sym.frames),
               static_cast<unsigned long long>(stats.bytes_read));
  if (o.verbose) {
    std::fprintf(stderr,
                 "goperf record: %llu incomplete stacks, %llu continued on the goroutine, %llu pcs symbolized\n",
                 static_cast<unsigned long long>(sym.incomplete), static_cast<unsigned long long>(sym.switched),
                 static_cast<unsigned long long>(sym.pc_cache_misses));
    std::fprintf(stderr, "goperf record: truncated stacks by where the walk stopped:");
    for (size_t i = 0; i < sym.truncated_by.size(); ++i) {
      if (sym.truncated_by[i] == 0) continue;
      const char* why = i + 1 == sym.truncated_by.size() ? "no walk" : unwind::to_string(static_cast<unwind::StopReason>(i));
      std::fprintf(stderr, " %s %llu;", why, static_cast<unsigned long long>(sym.truncated_by[i]));
    }
    std::fprintf(stderr, "\n");
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

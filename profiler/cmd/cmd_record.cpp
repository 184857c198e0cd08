// goperf record: sample live Go processes into a gzip pprof profile (and the format -o's extension names).
// Flow: prepare (targets, event, output), attach the sampler (eBPF or perf), drain samples into the
// SampleSymbolizer until Ctrl-C / -d / the target's exit, then write the profile. A running target is
// never stopped or signalled; a program started with -- CMD ends with the recording (record_child.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "bpf/bpf_sampler.h"
#include "bpf/go_target.h"
#include "flamegraph/process_roots.h"
#include "profiler/commands.h"
#include "profiler/record/perf_event_spec.h"
#include "profiler/record/perf_sampler.h"
#include "profiler/record/record_child.h"
#include "profiler/record/record_drain.h"
#include "profiler/record/record_goroutines.h"
#include "profiler/record/record_no_samples.h"
#include "profiler/options/record_options.h"
#include "profiler/record/record_output.h"
#include "profiler/record/record_sampling.h"
#include "profiler/record/sample_symbolizer.h"
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
  bo.user_only = o.user_only || sampling.event.exclude_kernel;
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
    if (!sampling.note.empty() && !o.quiet) std::fprintf(stderr, "goperf record: %s\n", sampling.note.c_str());
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
  po.user_only = o.user_only || sampling.event.exclude_kernel;
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

// The stacks that reached their root (goexit, mstart, an mcall, a C thread's start), of all samples, and
// how many of them skip frames they could not unwind ("[frames not unwound]").
std::string complete_share(const SymbolizerStats& sym) {
  if (sym.taken == 0) return "no stacks";
  char text[160];
  uint64_t complete = sym.taken - sym.truncated;
  int len = std::snprintf(text, sizeof(text), "%llu of %llu stacks complete (%.1f%%)",
                          static_cast<unsigned long long>(complete), static_cast<unsigned long long>(sym.taken),
                          100.0 * static_cast<double>(complete) / sym.taken);
  if (sym.with_gap > 0 && len > 0 && static_cast<size_t>(len) < sizeof(text)) {
    std::snprintf(text + len, sizeof(text) - static_cast<size_t>(len), ", %llu of them with frames not unwound",
                  static_cast<unsigned long long>(sym.with_gap));
  }
  return text;
}


// One recording, from the parsed options to the written profile; each step below is one stage of it.
struct Recording {
  RecordOptions o;
  std::vector<uint32_t> pids;
  std::string prog;
  RecordOutput output;
  SamplingChoice sampling;
  std::optional<ChildProcess> child;
  ChosenSampler backend;
  std::optional<SampleSymbolizer> symbolizer;
  std::vector<uint64_t> cpu_before;  // the targets' CPU time at the start (record_no_samples.h)
  std::string stop_reason = "duration elapsed";
  int64_t start_unix = 0, duration = 0;

  bool user_only() const { return o.user_only || sampling.event.exclude_kernel; }
  // Warnings and notes: not with -q, which prints errors only.
  void note(const std::string& text) const {
    if (!o.quiet && !text.empty()) std::fprintf(stderr, "goperf record: %s\n", text.c_str());
  }
  // A failure once the child is forked: it has not exec'd yet, and exits without running the command.
  int fail_before_exec(const std::string& message) {
    if (child) child->abandon();
    return fail(message);
  }
};

// Targets, event, child and output, each checked before anything is attached: a wrong -p is the one
// line printed, before any note about the event.
std::optional<int> prepare(Recording& r) {
  r.pids = r.o.pids;
  for (uint32_t pid : r.pids) {
    if (auto usable = unwind::check_target_process(static_cast<pid_t>(pid)); !usable) return fail(usable.error().message());
  }
  auto chosen = choose_sampling(r.o.event, r.o.frequency_hz);
  if (!chosen) return fail(chosen.error().message());
  r.sampling = std::move(*chosen);
  if (r.user_only() && r.sampling.tick) {
    return fail("-e tick samples at the kernel's timer tick and cannot be user-only: use -e cpu-clock:u");
  }
  r.prog = r.o.command.empty() ? process_name(r.pids[0]) : r.o.command[0];
  if (!r.o.output.empty()) {
    auto output = plan_record_output(r.o.output);
    if (!output) return fail(output.error().message());
    r.output = std::move(*output);
  }
  if (!r.o.command.empty()) {
    auto spawned = ChildProcess::spawn(r.o.command);
    if (!spawned) return fail(spawned.error().message());
    r.child.emplace(std::move(*spawned));
    r.pids = {static_cast<uint32_t>(r.child->pid())};
  }
  if (r.o.output.empty()) r.output = *plan_record_output(default_output(r.prog, r.pids[0]));  // named by the pid
  for (const std::string& path : {r.output.path, r.output.pprof_path}) {
    if (auto st = check_writable(path); !st) return r.fail_before_exec(st.error().message());
  }
  r.note(high_rate_warning(r.o.frequency_hz));
  return std::nullopt;
}

// The sampler attached and started, the child released into its program, Ctrl-C caught.
std::optional<int> start_sampling(Recording& r) {
  auto backend = make_sampler(r.o, r.sampling, r.pids, r.child.has_value());
  if (!backend) return r.fail_before_exec(backend.error().message());
  r.backend = std::move(*backend);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  SampleSymbolizerOptions so;
  so.pids = r.pids;
  so.event_name = r.sampling.event.name;
  so.time_based = r.sampling.event.time_based;
  so.period = r.sampling.period(r.o.frequency_hz);
  so.kernel_symbols = !r.user_only();
  // A running target's modules are opened before sampling starts, so the first samples are drained
  // at once instead of waiting in the ring buffers.
  if (!r.child) r.symbolizer.emplace(so);
  for (uint32_t pid : r.pids) r.cpu_before.push_back(process_cpu_ticks(pid));

  if (auto st = r.backend.sampler->start(); !st) return r.fail_before_exec(st.error().message());
  if (r.child) {
    if (auto st = r.child->release(); !st) return fail(st.error().message());
  }
  for (const auto& note : r.backend.notes) r.note(note);
  if (!r.symbolizer) r.symbolizer.emplace(so);  // after exec: the child's maps are its program's
  return std::nullopt;
}

bool any_target_alive(Recording& r) {
  if (r.child) return !r.child->exited();
  for (uint32_t pid : r.pids) {
    if (process_alive(pid)) return true;
  }
  return false;
}

// Drains samples until Ctrl-C, -d or the targets' exit; the progress line on a terminal.
void sample_until_stopped(Recording& r, SampleDrain& drain, const std::function<bool(int)>& consume) {
  const int64_t start = now_ns(CLOCK_MONOTONIC);
  const int64_t deadline = r.o.duration_s > 0 ? start + static_cast<int64_t>(r.o.duration_s * 1e9) : INT64_MAX;
  const bool tty = isatty(STDERR_FILENO) && !r.o.quiet;
  int64_t next_progress = start + 1000000000;
  int64_t next_alive_check = start + 200000000;
  for (;;) {
    consume(100);
    const int64_t now = now_ns(CLOCK_MONOTONIC);
    if (g_stop_signal.load() != 0) {
      r.stop_reason = g_stop_signal.load() == SIGINT ? "interrupted" : "terminated";
      break;
    }
    if (now >= deadline) break;
    if (now >= next_alive_check) {
      next_alive_check = now + 200000000;
      if (!any_target_alive(r)) {
        r.stop_reason = "target exited";
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
  if (tty) std::fprintf(stderr, "\n");
}

// The whole recording: the start line, the drain loop, the goroutine sampler beside it (-e goroutines,EVENT).
unwind::SamplerStats record_samples(Recording& r) {
  std::thread goroutines;
  if (r.o.goroutines) {
    goroutines = std::thread([&] {
      const std::string path = goroutines_output(r.output.pprof_path);
      record_goroutines(r.o, r.prog, RecordOutput{path, flamegraph::OutputFormat::kPprof, path}, &g_stop_signal);
    });
  }
  SampleDrain drain(*r.backend.sampler);
  drain.start();
  std::vector<unwind::OwnedRawSample> batch;
  auto consume = [&](int timeout_ms) {
    bool more = drain.take(batch, timeout_ms);
    for (const auto& b : batch) r.symbolizer->add(b.sample());
    drain.recycle(batch);
    return more;
  };
  r.start_unix = now_ns(CLOCK_REALTIME);
  const int64_t start = now_ns(CLOCK_MONOTONIC);
  if (!r.o.quiet) {
    std::fprintf(stderr, "goperf record: sampling %s%s of %s (pid %u%s) at %llu Hz with %s; Ctrl-C to stop\n",
                 r.sampling.tick ? "CPU time" : r.sampling.event.name.c_str(), r.user_only() ? " (user only)" : "",
                 r.prog.c_str(), r.pids[0], r.pids.size() > 1 ? ", ..." : "",
                 static_cast<unsigned long long>(r.o.frequency_hz), backend_phrase(r.backend).c_str());
  }
  sample_until_stopped(r, drain, consume);
  // As perf record does: a program goperf started ends with the recording (SIGTERM, then its own exit).
  if (r.child && r.stop_reason != "target exited") r.child->terminate();
  drain.finish();
  while (consume(0)) {
  }
  if (goroutines.joinable()) {
    if (r.stop_reason == "target exited" && g_stop_signal.load() == 0) g_stop_signal.store(SIGTERM);
    goroutines.join();
  }
  r.duration = now_ns(CLOCK_MONOTONIC) - start;
  return drain.stats();
}

void print_verbose_stats(const SymbolizerStats& sym) {
  std::fprintf(stderr, "goperf record: %llu incomplete stacks, %llu continued on the goroutine, %llu pcs symbolized\n",
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

// Why the profile is empty, in one line, from what the targets did meanwhile.
std::string no_samples_reason(Recording& r) {
  NoSampleFacts facts;
  facts.pids = r.pids;
  facts.cpu_before = r.cpu_before;
  for (uint32_t pid : r.pids) facts.cpu_after.push_back(process_cpu_ticks(pid));
  facts.prog = r.prog;
  facts.seconds = r.duration / 1e9;
  facts.target_exited = r.stop_reason == "target exited";
  facts.child = r.child.has_value();
  if (r.child && r.child->exited() && WIFEXITED(r.child->exit_status())) {
    facts.child_exit_code = WEXITSTATUS(r.child->exit_status());
  }
  facts.user_only = r.user_only();
  return explain_no_samples(facts);
}

// The profile (with a root frame per process when there are several) and the closing lines.
int write_results(Recording& r, const unwind::SamplerStats& stats) {
  auto profile = r.symbolizer->finish(r.start_unix, r.duration);
  if (r.pids.size() > 1) {
    std::map<int64_t, std::string> names;
    for (uint32_t pid : r.pids) names[pid] = process_name(pid);
    flamegraph::add_process_roots(profile, names);
  }
  const bool empty = profile.samples.empty();
  const std::string why_empty = empty ? no_samples_reason(r) : "";
  auto wrote = write_record_output(profile, r.output, r.prog + " (pid " + std::to_string(r.pids[0]) + "), " +
                                                          r.sampling.event.name);
  if (!wrote) return fail(wrote.error().message());
  const auto& sym = r.symbolizer->stats();
  for (const auto& why : sym.unusable_files) r.note(why + ": its frames are unknown");
  if (empty) std::fprintf(stderr, "goperf record: %s\n", why_empty.c_str());
  if (!r.o.quiet) {
    std::fprintf(stderr,
                 "goperf record: %s after %.1fs: %llu samples, %llu lost, %s, %llu of %llu frames unknown, "
                 "%llu bytes from the kernel\n",
                 r.stop_reason.c_str(), r.duration / 1e9, static_cast<unsigned long long>(stats.samples),
                 static_cast<unsigned long long>(stats.lost), complete_share(sym).c_str(),
                 static_cast<unsigned long long>(sym.unknown_frames), static_cast<unsigned long long>(sym.frames),
                 static_cast<unsigned long long>(stats.bytes_read));
    if (r.o.verbose) print_verbose_stats(sym);
    std::fprintf(stderr, "goperf record: %s\nview it with: goperf report -i %s\n", wrote->c_str(),
                 r.output.pprof_path.c_str());
  }
  if (r.child && !r.child->exited()) r.child->wait(2000);  // let the child finish its own SIGTERM handling
  return 0;
}

}  // namespace

int run_record(const Args& args) {
  Recording r;
  if (!parse_record_options(args, r.o)) return 0;
  if (auto failed = prepare(r)) return *failed;
  if (r.o.goroutines && r.o.event.empty()) return record_goroutines(r.o, r.prog, r.output);  // record_goroutines.cpp
  if (auto failed = start_sampling(r)) return *failed;
  const unwind::SamplerStats stats = record_samples(r);
  return write_results(r, stats);
}

}  // namespace goperf::profiler

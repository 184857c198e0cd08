// The tick loop of `goperf record -e goroutines`: ticks on an absolute schedule (CLOCK_MONOTONIC), each
// weighing the wall time since the previous one, so that a late tick does not lose time.
#include "profiler/record/record_goroutines.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "profiler/record/goroutine_sampler.h"
#include "profiler/record/realtime_ticks.h"
#include "profiler/options/record_options.h"
#include "profiler/record/record_output.h"
#include "profiler/record/sample_symbolizer.h"
#include "unwind/ptrace_session.h"

namespace goperf::profiler {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Returns early on a signal (Ctrl-C), for the loop to look at.
void sleep_until(int64_t t) {
  timespec ts{static_cast<time_t>(t / 1000000000), static_cast<long>(t % 1000000000)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

std::atomic<int> g_stop{0};
void on_signal(int sig) { g_stop.store(sig); }

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf record: %s\n", message.c_str());
  return 1;
}

bool alive(uint32_t pid) {
  auto st = unwind::read_process_status(static_cast<pid_t>(pid));
  return st.exists && st.state != 'Z' && st.state != 'X';
}

// The closing line: why it stopped, what was sampled, and goperf's own CPU cost.
void print_summary(const std::string& stop_reason, int64_t duration, int64_t cpu, const GoroutineSamplerStats& st) {
  std::fprintf(stderr,
               "goperf record: %s after %.1fs: %llu ticks, %llu goroutine samples (stacks: %llu walked, %llu unchanged, "
               "%llu on a thread, %llu changed while read; %llu g's rewritten as read, not sampled), %.1f ms of goperf CPU "
               "per second\n",
               stop_reason.c_str(), duration / 1e9, static_cast<unsigned long long>(st.ticks),
               static_cast<unsigned long long>(st.samples), static_cast<unsigned long long>(st.stacks.walked),
               static_cast<unsigned long long>(st.stacks.reused), static_cast<unsigned long long>(st.stacks.on_thread),
               static_cast<unsigned long long>(st.stacks.dropped), static_cast<unsigned long long>(st.unsettled),
               duration > 0 ? cpu / 1e6 / (duration / 1e9) : 0.0);
}

SampleSymbolizerOptions goroutine_sink_options(uint32_t pid, int64_t period) {
  SampleSymbolizerOptions so;
  so.pids = {pid};
  so.event_name = "goroutines";
  so.goroutines = true;
  so.period = static_cast<uint64_t>(period);
  so.thread_label = false;
  return so;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// What the tick loop ran: why it stopped and the wall time its ticks stand for (the profile's duration).
struct TickLoopEnd {
  std::string stop_reason = "duration elapsed";
  int64_t covered = 0;
};

// Ticks until the duration elapses, a signal arrives or the target exits.
TickLoopEnd run_ticks(GoroutineSampler& sampler, uint32_t pid, int64_t period, int64_t start, int64_t deadline,
                      bool tty, const std::atomic<int>& stop) {
  TickLoopEnd end;
  int64_t last = start, next = start, next_progress = start + 1000000000;
  bool first = true;
  for (;;) {
    const int64_t wake = std::min(next, deadline);
    sleep_until(wake);
    if (stop.load() != 0) {
      end.stop_reason = stop.load() == SIGINT ? "interrupted" : "terminated";
      break;
    }
    const int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now < wake) continue;  // woken early by another signal
    if (next >= deadline) break;
    // A tick stands for the wall time since the previous one: the period when on time, more after a
    // late tick, so that no time is lost; the first one stands for one period.
    const int64_t weight = first ? period : now - last;
    first = false;
    end.covered += weight;
    if (!sampler.tick(weight) && !alive(pid)) {
      end.stop_reason = "target exited";
      break;
    }
    last = now;
    next += period;
    if (next <= now) next = now + period;  // fell behind by more than a period: the gap goes to the next tick
    if (tty && now >= next_progress) {
      next_progress = now + 1000000000;
      auto st = sampler.stats();
      std::fprintf(stderr, "\r  %.0fs  %llu ticks  %llu goroutine samples   ", (now - start) / 1e9,
                   static_cast<unsigned long long>(st.ticks), static_cast<unsigned long long>(st.samples));
      std::fflush(stderr);
    }
  }
  return end;
}

}  // namespace

std::string goroutines_output(const std::string& cpu_output) {
  const std::string ext = ".pb.gz";
  const bool has_ext = cpu_output.size() > ext.size() && cpu_output.compare(cpu_output.size() - ext.size(), ext.size(), ext) == 0;
  return (has_ext ? cpu_output.substr(0, cpu_output.size() - ext.size()) : cpu_output) + ".goroutines.pb.gz";
}

int record_goroutines(const RecordOptions& o, const std::string& prog, const RecordOutput& output,
                      const std::atomic<int>* stop_signal) {
  const std::atomic<int>& stop = stop_signal ? *stop_signal : g_stop;
  const uint32_t pid = o.pids[0];
  const int64_t period = static_cast<int64_t>(1000000000 / o.frequency_hz);
  SampleSymbolizer sink(goroutine_sink_options(pid, period));
  auto sampler = GoroutineSampler::open(pid, sink);
  if (!sampler) return fail(sampler.error().message());
  if (!(*sampler)->note().empty() && !o.quiet) std::fprintf(stderr, "goperf record: %s\n", (*sampler)->note().c_str());
  if (std::getenv("GOPERF_GOROUTINES_NO_REUSE")) (*sampler)->set_reuse(false);

  if (stop_signal == nullptr) install_stop_handlers();
  const bool tty = isatty(STDERR_FILENO) && !o.quiet;
  if (!o.quiet) {
    std::fprintf(stderr, "goperf record: sampling the goroutines of %s (pid %u) at %llu Hz; Ctrl-C to stop\n",
                 prog.c_str(), pid, static_cast<unsigned long long>(o.frequency_hz));
  }
  const int64_t start_unix = clock_ns(CLOCK_REALTIME);
  const int64_t start = clock_ns(CLOCK_MONOTONIC);
  const int64_t cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t deadline = o.duration_s > 0 ? start + static_cast<int64_t>(o.duration_s * 1e9) : INT64_MAX;
  TickLoopEnd end;
  {
    const RealtimeTicks realtime;  // each tick on time, not when a CPU frees up (realtime_ticks.h)
    if (!realtime.note().empty() && !o.quiet) std::fprintf(stderr, "goperf record: %s\n", realtime.note().c_str());
    end = run_ticks(**sampler, pid, period, start, deadline, tty, stop);
  }
  const int64_t duration = clock_ns(CLOCK_MONOTONIC) - start;
  // The profile's duration is the time its ticks stand for, so that goroutine-seconds divided by it are
  // goroutines: the first tick stands for the period before it, the last ends at itself.
  const int64_t cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  if (tty) std::fprintf(stderr, "\n");
  (*sampler)->flush();
  auto profile = sink.finish(start_unix, end.covered);
  auto wrote = write_record_output(profile, output, prog + " (pid " + std::to_string(pid) + "), goroutines");
  if (!wrote) return fail(wrote.error().message());
  if (o.quiet) return 0;
  print_summary(end.stop_reason, duration, cpu, (*sampler)->stats());
  std::fprintf(stderr, "goperf record: %s\nview it with: goperf report -i %s\n", wrote->c_str(),
               output.pprof_path.c_str());
  return 0;
}

}  // namespace goperf::profiler

// The scheduler tick as a sampling source: where it is (kallsyms), how often (TICK_NSEC) and how a
// requested rate is split between it and cpu-clock.
#include "unwind/tick_source.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace goperf::unwind {
namespace {

// The tick's hrtimer function: tick_nohz_handler since Linux 6.8 (it was tick_sched_timer before).
constexpr const char* kTickHandlers[] = {"tick_nohz_handler", "tick_sched_timer"};
constexpr const char* kIrqEntry = "asm_sysvec_apic_timer_interrupt";
constexpr long kTracefsMagic = 0x74726163;

bool is_tracefs(const char* dir) {
  struct statfs fs {};
  return statfs(dir, &fs) == 0 && static_cast<long>(fs.f_type) == kTracefsMagic;
}

// The kernel's CPU list format ("1-3,5"): whether it names any CPU.
bool names_cpus(const std::string& path) {
  std::ifstream in(path);
  std::string list;
  return in && std::getline(in, list) && list.find_first_of("0123456789") != std::string::npos;
}

// Whether some CPU's tick runs in low-resolution mode (timer_list: ".hres_active    : 0"); an unreadable
// file says nothing.
bool low_resolution_cpu(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find(".hres_active");
    if (at == std::string::npos) continue;
    auto colon = line.find(':', at);
    if (colon != std::string::npos && line.find('0', colon) != std::string::npos &&
        line.find('1', colon) == std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<TickSource> find_tick_source(const TickSourcePaths& paths) {
  const std::string& kallsyms_path = paths.kallsyms;
  if (names_cpus(paths.nohz_full)) {
    return make_error(ErrorCode::kUnsupported,
                      "some CPUs run without a scheduler tick while busy (nohz_full): their threads would go unsampled");
  }
  if (low_resolution_cpu(paths.timer_list)) {
    return make_error(ErrorCode::kUnsupported, "the scheduler tick runs in low-resolution mode (not an hrtimer)");
  }
  TickSource tick;
  timespec res{};
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 || res.tv_sec != 0 || res.tv_nsec <= 0) {
    return make_error(ErrorCode::kUnsupported, "the kernel's tick length is unknown (CLOCK_MONOTONIC_COARSE)");
  }
  tick.tick_ns = static_cast<uint64_t>(res.tv_nsec);
  FILE* f = std::fopen(kallsyms_path.c_str(), "r");
  if (!f) return make_error(ErrorCode::kPermission, "cannot read " + kallsyms_path + ": " + std::strerror(errno));
  char line[512];
  bool hidden = false, want_entry_end = false;
  while (std::fgets(line, sizeof(line), f)) {
    char* end = nullptr;
    uint64_t addr = std::strtoull(line, &end, 16);
    if (end == line || *end != ' ' || end[1] == '\0') continue;
    char type = end[1];
    if (type != 't' && type != 'T') continue;
    if (addr == 0) {
      hidden = true;
      break;
    }
    if (want_entry_end && addr > tick.irq_entry_start) {
      tick.irq_entry_end = addr;
      want_entry_end = false;
    }
    const char* name = end + 3;
    size_t len = std::strcspn(name, " \t\n");
    std::string_view sym(name, len);
    if (sym == kIrqEntry && tick.irq_entry_start == 0) {
      tick.irq_entry_start = addr;
      want_entry_end = true;
    }
    for (const char* h : kTickHandlers) {
      if (sym == h && tick.handler == 0) tick.handler = addr;
    }
    if (tick.handler && tick.irq_entry_end) break;
  }
  std::fclose(f);
  if (hidden) {
    return make_error(ErrorCode::kPermission,
                      "kernel addresses are hidden (kernel.kptr_restrict): the scheduler tick cannot be told apart");
  }
  if (!tick.handler) return make_error(ErrorCode::kUnsupported, "no high-resolution scheduler tick in this kernel");
  if (!tick.irq_entry_end) return make_error(ErrorCode::kUnsupported, "no x86-64 timer interrupt entry in kallsyms");
  return tick;
}

Result<int> tracepoint_id(std::string_view system, std::string_view event) {
  const char* dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
  bool mounted = false;
  for (const char* d : dirs) mounted = mounted || is_tracefs(d);
  if (!mounted && mount("tracefs", dirs[0], "tracefs", 0, nullptr) != 0) {
    return make_error(errno == EPERM ? ErrorCode::kPermission : ErrorCode::kUnsupported,
                      std::string("tracefs is not mounted and cannot be (") + std::strerror(errno) + ")");
  }
  for (const char* d : dirs) {
    std::string path = std::string(d) + "/events/" + std::string(system) + "/" + std::string(event) + "/id";
    std::ifstream in(path);
    int id = -1;
    if (in >> id && id >= 0) return id;
  }
  return make_error(ErrorCode::kNotFound,
                    "no tracepoint " + std::string(system) + ":" + std::string(event) + " in tracefs");
}

std::span<const uint64_t> interrupted_frames(std::span<const uint64_t> chain, const TickSource& tick) {
  for (size_t i = 0; i < chain.size(); ++i) {
    // Return addresses in the stub point past its call: inside [start, end).
    if (chain[i] > tick.irq_entry_start && chain[i] < tick.irq_entry_end) return chain.subspan(i + 1);
  }
  return {};
}

double SamplingPlan::effective_hz() const {
  return weight_ns() ? 1e9 / static_cast<double>(weight_ns()) : 0.0;
}

SamplingPlan plan_sampling(uint64_t hz, const TickSource* tick) {
  SamplingPlan plan;
  if (hz == 0) return plan;
  uint32_t ticks_hz = tick ? tick->hz() : 0;
  if (!ticks_hz) {
    plan.clock_hz = hz;
    plan.clock_weight_ns = 1000000000ULL / hz;
    return plan;
  }
  if (hz <= ticks_hz) {
    plan.tick_every = static_cast<uint32_t>(ticks_hz / hz);
    plan.tick_weight_ns = plan.tick_every * tick->tick_ns;
    return plan;
  }
  plan.tick_every = 1;
  plan.clock_hz = hz - ticks_hz;
  plan.tick_weight_ns = plan.clock_weight_ns = 1000000000ULL / hz;
  return plan;
}

}  // namespace goperf::unwind

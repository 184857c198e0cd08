// Event names -> perf_event_attr (type, config). perf's own aliases first, libpfm4 for the rest.
#include "profiler/record/perf_event_spec.h"

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace goperf::profiler {
namespace {

struct Alias {
  const char* name;
  uint32_t type;
  uint64_t config;
  bool time_based;
  bool tick = false;
};

// The generic events perf(1) accepts by these names (tools/perf/util/parse-events.c).
constexpr Alias kAliases[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false},
    {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, false},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, false},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, false},
    {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, false},
    {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, false},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, false},
    {"bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES, false},
    {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES, false},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, true},
    // goperf's own: CPU time sampled at the scheduler tick, no interrupt of its own (record_sampling.h);
    // cpu-clock is the event that samples the rate above the tick's.
    {"tick", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, true, true},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, true},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false},
    {"faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false},
    {"cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, false},
    {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, false},
    {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, false},
};

Status pfm_init_once() {
  static std::once_flag once;
  static int rc = PFM_SUCCESS;
  std::call_once(once, [] { rc = pfm_initialize(); });
  if (rc != PFM_SUCCESS) {
    return make_error(ErrorCode::kUnsupported, std::string("libpfm4 initialization failed: ") + pfm_strerror(rc));
  }
  return {};
}

const Alias* find_alias(std::string_view name) {
  for (const auto& a : kAliases) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

// perf's event modifiers (tools/perf/util/parse-events.l: u, k, h, G, H, p, P, S, D, ...): goperf
// samples the program's user stacks, so only "u" (no kernel samples) and "uk" (both, the default) mean
// something it can honour; the rest would be silently ignored, so they are refused.
Result<bool> user_only_modifier(std::string_view name, std::string_view modifiers) {
  bool user = false, kernel = false;
  for (char c : modifiers) {
    if (c == 'u') {
      user = true;
    } else if (c == 'k') {
      kernel = true;
    } else {
      return make_error(ErrorCode::kInvalidArgument, "event '" + std::string(name) + "': the modifier '" +
                                                         std::string(1, c) + "' is not supported (goperf takes :u)");
    }
  }
  if (kernel && !user) {
    return make_error(ErrorCode::kInvalidArgument,
                      "event '" + std::string(name) + "': kernel-only sampling (:k) is not supported: goperf samples "
                      "the program's stacks (use :u for user code only)");
  }
  return user && !kernel;
}

}  // namespace

Result<EventSpec> resolve_event(std::string_view name) {
  std::string_view base = name;
  bool user_only = false;
  if (size_t colon = name.rfind(':'); colon != std::string_view::npos && find_alias(name.substr(0, colon))) {
    auto modifier = user_only_modifier(name, name.substr(colon + 1));
    if (!modifier) return std::move(modifier).error();
    base = name.substr(0, colon);
    user_only = *modifier;
  }
  if (const Alias* a = find_alias(base)) {
    EventSpec spec;
    spec.name = a->name;
    spec.type = a->type;
    spec.config = a->config;
    spec.time_based = a->time_based;
    spec.tick = a->tick;
    spec.exclude_kernel = user_only;
    return spec;
  }
  if (auto st = pfm_init_once(); !st) return std::move(st).error();
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  pfm_perf_encode_arg_t arg{};
  arg.attr = &attr;
  arg.size = sizeof(arg);
  std::string cname(name);
  int rc = pfm_get_os_event_encoding(cname.c_str(), PFM_PLM3 | PFM_PLM0, PFM_OS_PERF_EVENT, &arg);
  if (rc != PFM_SUCCESS) {
    return make_error(ErrorCode::kNotFound, "unknown event '" + cname + "' (" + pfm_strerror(rc) +
                                                "); try cpu-clock, task-clock, cycles, instructions or a libpfm4 name");
  }
  EventSpec spec;
  spec.name = cname;
  spec.type = attr.type;
  spec.config = attr.config;
  spec.config1 = attr.config1;
  spec.config2 = attr.config2;
  spec.exclude_kernel = attr.exclude_kernel != 0;  // libpfm4's own ":u"
  spec.time_based = attr.type == PERF_TYPE_SOFTWARE &&
                    (attr.config == PERF_COUNT_SW_CPU_CLOCK || attr.config == PERF_COUNT_SW_TASK_CLOCK);
  return spec;
}

Status probe_event(const EventSpec& spec) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = spec.type;
  attr.config = spec.config;
  attr.config1 = spec.config1;
  attr.config2 = spec.config2;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  if (int err = try_open_on_self(attr); err != 0) {
    if (err == EACCES || err == EPERM) {
      return make_error(ErrorCode::kPermission,
                        "perf_event_open denied: lower kernel.perf_event_paranoid (sysctl) or grant CAP_PERFMON");
    }
    return make_error(ErrorCode::kUnsupported,
                      "event '" + spec.name + "' cannot be opened here: " + std::strerror(err));
  }
  return {};
}

int try_open_on_self(perf_event_attr attr) {
  attr.disabled = 1;
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

EventSpec default_event(std::string* note) {
  auto cycles = resolve_event("cycles");
  if (cycles && probe_event(*cycles)) return *cycles;
  if (note) *note = "no hardware cycles counter on this machine (virtualized or no PMU): sampling cpu-clock";
  return *resolve_event("cpu-clock");
}

}  // namespace goperf::profiler

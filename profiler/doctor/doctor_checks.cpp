// Doctor checks. The rules are the kernel's: kernel/events/core.c (perf_event_paranoid, CAP_PERFMON),
// security/yama/yama_lsm.c (ptrace_scope), fs/coredump.c (core_pattern, RLIMIT_CORE, pipes),
// Documentation/filesystems/proc.rst (coredump_filter bits).
#include "profiler/doctor/doctor_checks.h"

#include "unwind/tick_source.h"

#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace goperf::profiler {
namespace {

constexpr int kCapSysPtrace = 19, kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) i++;
  return s.substr(i);
}

// The value after "Key:" in a /proc/PID/status file.
std::optional<std::string> status_field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return trim(line.substr(key.size() + 1));
  return std::nullopt;
}

bool has_cap(const DoctorContext& c, int cap) { return (c.cap_eff >> cap) & 1ULL; }

std::string proc_dir(const DoctorContext& c) {
  return c.proc_root + "/" + (c.pid != 0 ? std::to_string(c.pid) : std::string("self"));
}

CheckResult ok(std::string area, std::string name, std::string detail) {
  return {std::move(area), std::move(name), CheckState::kOk, std::move(detail), ""};
}
CheckResult bad(std::string area, std::string name, CheckState s, std::string detail, std::string fix) {
  return {std::move(area), std::move(name), s, std::move(detail), std::move(fix)};
}

// perf_event_open on this process, user space only, as `goperf record` opens its events.
int try_perf_event(uint32_t type, uint64_t config) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = type;
  attr.config = config;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.sample_period = 1000000;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return errno;
  close(static_cast<int>(fd));
  return 0;
}

}  // namespace

const char* to_string(CheckState s) {
  switch (s) {
    case CheckState::kOk: return "ok";
    case CheckState::kWarn: return "warn";
    case CheckState::kFail: return "FIX";
  }
  return "?";
}

DoctorContext current_doctor_context(int pid) {
  DoctorContext c;
  c.pid = pid;
  c.root = geteuid() == 0;
  c.uid = getuid();
  c.gid = getgid();
  if (auto status = read_text("/proc/self/status")) {
    if (auto v = status_field(*status, "CapEff")) c.cap_eff = std::strtoull(v->c_str(), nullptr, 16);
  }
  return c;
}

std::vector<CheckResult> check_perf(const DoctorContext& c) {
  std::vector<CheckResult> out;
  auto text = read_text(c.proc_root + "/sys/kernel/perf_event_paranoid");
  bool privileged = has_cap(c, kCapPerfmon) || has_cap(c, kCapSysAdmin);
  if (!text) {
    out.push_back(bad("perf", "perf_event_paranoid", CheckState::kFail, "/proc/sys/kernel/perf_event_paranoid is missing",
                      "this kernel has no perf events (CONFIG_PERF_EVENTS): goperf record cannot sample here"));
  } else {
    int level = std::atoi(text->c_str());
    std::string detail = "kernel.perf_event_paranoid = " + std::to_string(level);
    if (privileged) {
      out.push_back(ok("perf", "perf_event_paranoid", detail + " (does not apply: CAP_PERFMON/CAP_SYS_ADMIN held)"));
    } else if (level <= 2) {
      out.push_back(ok("perf", "perf_event_paranoid", detail + " (user-space sampling of your own processes allowed)"));
    } else {
      out.push_back(bad("perf", "perf_event_paranoid", CheckState::kFail, detail + ": unprivileged perf events are off",
                        "run `sysctl -w kernel.perf_event_paranoid=2`, or grant CAP_PERFMON: "
                        "`setcap cap_perfmon,cap_sys_ptrace+ep $(command -v goperf)`"));
    }
  }
  if (privileged) {
    out.push_back(ok("perf", "CAP_PERFMON", has_cap(c, kCapPerfmon) ? "held" : "CAP_SYS_ADMIN held (implies it)"));
  } else {
    out.push_back(bad("perf", "CAP_PERFMON", CheckState::kWarn, "not held: only processes of your own user can be sampled",
                      "to sample other users' processes: `setcap cap_perfmon,cap_sys_ptrace+ep $(command -v goperf)`"));
  }
  int hw = try_perf_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
  int sw = try_perf_event(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK);
  if (hw == 0) {
    out.push_back(ok("perf", "hardware events", "cycles can be sampled"));
  } else {
    std::string why = hw == ENOENT || hw == EOPNOTSUPP ? "no hardware PMU (typical in a VM or container)" : std::strerror(hw);
    out.push_back(bad("perf", "hardware events", CheckState::kWarn, "perf_event_open(cycles) failed: " + why,
                      sw == 0 ? "nothing to do: goperf record falls back to cpu-clock (software timer), or "
                                "samples at the scheduler tick with -e tick"
                              : "enable a PMU for this VM (e.g. `-cpu host` in QEMU) or use a software event"));
  }
  if (sw == 0) {
    out.push_back(ok("perf", "software events", "cpu-clock can be sampled"));
  } else {
    out.push_back(bad("perf", "software events", CheckState::kFail,
                      std::string("perf_event_open(cpu-clock) failed: ") + std::strerror(sw),
                      sw == EACCES || sw == EPERM
                          ? "lower kernel.perf_event_paranoid (`sysctl -w kernel.perf_event_paranoid=2`) or grant CAP_PERFMON"
                          : "perf events are blocked here (a seccomp profile of the container?): allow perf_event_open"));
  }
  // CPU time sampled at the tick costs no interrupt of its own (unwind/tick_source.h).
  if (auto tick = unwind::find_tick_source()) {
    out.push_back(ok("perf", "scheduler tick",
                     "-e tick can sample CPU time at the tick (" + std::to_string(tick->hz()) +
                         " Hz): no interrupt of its own per sample"));
  } else {
    out.push_back(bad("perf", "scheduler tick", CheckState::kWarn, tick.error().message(),
                      tick.error().code() == ErrorCode::kPermission
                          ? "for -e tick: run goperf as root (kallsyms shows root the addresses) or "
                            "`sysctl -w kernel.kptr_restrict=0`; cpu-clock works meanwhile"
                          : "nothing to do: cpu-clock samples CPU time without it"));
  }
  return out;
}

std::vector<CheckResult> check_bpf(const DoctorContext& c) {
  std::vector<CheckResult> out;
  if (has_cap(c, kCapBpf) && (has_cap(c, kCapPerfmon) || has_cap(c, kCapSysAdmin))) {
    out.push_back(ok("bpf", "CAP_BPF", has_cap(c, kCapSysAdmin) ? "CAP_BPF and CAP_SYS_ADMIN held" : "CAP_BPF and CAP_PERFMON held"));
  } else if (has_cap(c, kCapSysAdmin)) {
    out.push_back(ok("bpf", "CAP_BPF", "CAP_SYS_ADMIN held (covers BPF on kernels before 5.8)"));
  } else {
    // A warning, not a FIX: record falls back to the perf backend, so nothing is blocked.
    out.push_back(bad("bpf", "CAP_BPF", CheckState::kWarn, "neither CAP_BPF+CAP_PERFMON nor CAP_SYS_ADMIN is held",
                      "run as root, or `setcap cap_bpf,cap_perfmon+ep $(command -v goperf)`; "
                      "until then record falls back to the perf backend"));
  }
  if (access((c.sys_root + "/kernel/btf/vmlinux").c_str(), R_OK) == 0) {
    out.push_back(ok("bpf", "BTF", "/sys/kernel/btf/vmlinux present (CO-RE programs load)"));
  } else {
    out.push_back(bad("bpf", "BTF", CheckState::kWarn, "/sys/kernel/btf/vmlinux is missing",
                      "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.4), "
                      "else record falls back to the perf backend"));
  }
  return out;
}

std::vector<CheckResult> check_ptrace(const DoctorContext& c) {
  std::vector<CheckResult> out;
  bool cap = has_cap(c, kCapSysPtrace);
  auto scope_text = read_text(c.proc_root + "/sys/kernel/yama/ptrace_scope");
  if (!scope_text) {
    out.push_back(ok("ptrace", "ptrace_scope", "Yama is not active: classic ptrace rules (same user, or CAP_SYS_PTRACE)"));
  } else {
    int scope = std::atoi(scope_text->c_str());
    std::string detail = "kernel.yama.ptrace_scope = " + std::to_string(scope);
    if (scope == 0) {
      out.push_back(ok("ptrace", "ptrace_scope", detail + " (any process of your user can be attached)"));
    } else if (scope == 3) {
      out.push_back(bad("ptrace", "ptrace_scope", CheckState::kFail, detail + ": ptrace attach is disabled until reboot",
                        "set kernel.yama.ptrace_scope=1 (or lower) in /etc/sysctl.d and reboot; "
                        "meanwhile take a core (gcore cannot attach either; use `kill -ABRT` with cores enabled)"));
    } else if (cap) {
      out.push_back(ok("ptrace", "ptrace_scope", detail + " (CAP_SYS_PTRACE held)"));
    } else {
      out.push_back(bad("ptrace", "ptrace_scope", CheckState::kFail,
                        detail + (scope == 1 ? ": only descendants can be attached" : ": only CAP_SYS_PTRACE can attach"),
                        "run `sysctl -w kernel.yama.ptrace_scope=0`, or `setcap cap_sys_ptrace+ep $(command -v goperf)`"));
    }
  }
  out.push_back(cap ? ok("ptrace", "CAP_SYS_PTRACE", "held (processes of other users can be attached)")
                    : bad("ptrace", "CAP_SYS_PTRACE", CheckState::kWarn, "not held: only processes of your own user",
                          "to attach other users' processes: `setcap cap_sys_ptrace+ep $(command -v goperf)`"));
  if (c.pid != 0) {
    auto status = read_text(proc_dir(c) + "/status");
    if (!status) {
      out.push_back(bad("ptrace", "process", CheckState::kFail, "no process " + std::to_string(c.pid),
                        "check the PID (`pgrep -a NAME`)"));
      return out;
    }
    auto tracer = status_field(*status, "TracerPid");
    int tpid = tracer ? std::atoi(tracer->c_str()) : 0;
    if (tpid == 0) {
      out.push_back(ok("ptrace", "TracerPid", "process " + std::to_string(c.pid) + " is not traced"));
    } else {
      std::string comm = trim(read_text(c.proc_root + "/" + std::to_string(tpid) + "/comm").value_or("?"));
      out.push_back(bad("ptrace", "TracerPid", CheckState::kFail,
                        "process " + std::to_string(c.pid) + " is already traced by PID " + std::to_string(tpid) + " (" +
                            comm + "): a second tracer cannot attach",
                        "detach or stop " + comm + " (PID " + std::to_string(tpid) + ") first"));
    }
  }
  return out;
}

std::vector<CheckResult> run_doctor_checks(const DoctorContext& ctx) {
  std::vector<CheckResult> all;
  auto add = [&all](std::vector<CheckResult> part) { all.insert(all.end(), part.begin(), part.end()); };
  for (auto* f : {check_perf, check_bpf, check_ptrace, check_owner, check_cores, check_target}) add(f(ctx));
  add(check_panic_core(ctx, all));
  return all;
}

}  // namespace goperf::profiler

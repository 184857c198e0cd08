// Doctor checks: can this host and user sample (perf), load BPF, attach (ptrace) and keep cores of a process?
// Each check reads the kernel's own knobs (/proc/sys, /proc/PID) or tries the operation, and answers ok or
// exactly what to change.
#pragma once

#include <string>
#include <vector>

namespace goperf::profiler {

enum class CheckState { kOk, kWarn, kFail };

struct CheckResult {
  std::string area;    // "perf", "bpf", "ptrace", "core"
  std::string name;    // "perf_event_paranoid", "RLIMIT_CORE", ...
  CheckState state = CheckState::kOk;
  std::string detail;  // what was found
  std::string fix;     // what to change (empty when ok)
};

// Facts about the caller, read once (tests fill these to exercise the rules without root).
struct DoctorContext {
  int pid = 0;                // -p PID, 0 = this process
  bool root = false;          // euid 0
  unsigned uid = 0, gid = 0;  // real uid and gid: what the kernel compares with the target's (REALCREDS)
  unsigned long long cap_eff = 0;  // CapEff of this process
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
};

DoctorContext current_doctor_context(int pid);

std::vector<CheckResult> check_perf(const DoctorContext& ctx);
std::vector<CheckResult> check_bpf(const DoctorContext& ctx);
std::vector<CheckResult> check_ptrace(const DoctorContext& ctx);
std::vector<CheckResult> check_cores(const DoctorContext& ctx);
// With a PID: the program it runs, read from the file it mapped even if that was deleted or replaced.
std::vector<CheckResult> check_target(const DoctorContext& ctx);
// With a PID: whose process it is, against the caller: may goperf sample it (perf, eBPF) and attach to it?
std::vector<CheckResult> check_owner(const DoctorContext& ctx);
// GOTRACEBACK of the target (its /proc/PID/environ; this environment's without a PID), then whether a panic
// will leave a core, from it and the core checks in `so_far`.
std::vector<CheckResult> check_panic_core(const DoctorContext& ctx, const std::vector<CheckResult>& so_far);

// Every check, in the order above (owner right after ptrace, the panic checks after the core checks).
std::vector<CheckResult> run_doctor_checks(const DoctorContext& ctx);

const char* to_string(CheckState s);

}  // namespace goperf::profiler

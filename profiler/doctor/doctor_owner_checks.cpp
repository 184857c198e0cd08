// Doctor -p: whose process it is, against the user running goperf, by the kernel's rules for another user's
// process: kernel/ptrace.c __ptrace_may_access (same real/effective/saved uid and gid and a dumpable process,
// or CAP_SYS_PTRACE; Yama's ptrace_scope on top for attaching), kernel/events/core.c perf_check_permission
// (CAP_PERFMON, or the same ptrace read rule). kernel.perf_event_paranoid never opens another user's process.
#include <fstream>
#include <string>

#include "profiler/doctor/doctor_checks.h"
#include "profiler/process_owner.h"

namespace goperf::profiler {
namespace {

constexpr int kCapSysPtrace = 19, kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;

bool has_cap(const DoctorContext& c, int cap) { return (c.cap_eff >> cap) & 1ULL; }

// kernel.yama.ptrace_scope, or -1 when Yama is not active.
int yama_scope(const DoctorContext& c) {
  std::ifstream in(c.proc_root + "/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (in) in >> scope;
  return scope;
}

CheckResult result(std::string area, std::string name, CheckState s, std::string detail, std::string fix = "") {
  return {std::move(area), std::move(name), s, std::move(detail), std::move(fix)};
}

}  // namespace

std::vector<CheckResult> check_owner(const DoctorContext& c) {
  if (c.pid == 0) return {};
  const std::string pid = std::to_string(c.pid), p = "process " + pid;
  ProcessOwner o = read_process_owner(c.pid);
  if (!o.known) return {result("target", "owner", CheckState::kWarn, "cannot read /proc/" + pid + "/status")};
  const bool mine = same_user(o, c.uid, c.gid);
  const bool ptrace_cap = has_cap(c, kCapSysPtrace);
  // What the kernel compares: the process's user and dumpability, or CAP_SYS_PTRACE.
  const bool may_read = (mine && o.dumpable) || ptrace_cap;
  const int scope = yama_scope(c);
  const bool yama_allows = scope <= 0 || (scope < 3 && ptrace_cap);
  const bool may_perf = may_read || has_cap(c, kCapPerfmon) || has_cap(c, kCapSysAdmin);
  const bool bpf_caps = has_cap(c, kCapSysAdmin) || (has_cap(c, kCapBpf) && has_cap(c, kCapPerfmon));

  std::string whose = p + " runs as " + user_name(o.uid[1]) + ", goperf as " + user_name(c.uid);
  whose += mine ? ", the same user" : ", another user";
  if (!o.dumpable) whose += "; it is not dumpable (a set-uid program, or prctl(PR_SET_DUMPABLE, 0))";
  if (!may_read && ptrace_cap) whose += "; CAP_SYS_PTRACE held";
  std::vector<CheckResult> out;
  out.push_back(result("target", "owner", may_read ? CheckState::kOk : CheckState::kWarn,
                       whose + (may_read ? "" : ": only root or CAP_SYS_PTRACE may read it")));

  // The exact change for another user's (or an undumpable) process: root, or the two capabilities.
  const std::string as_root = c.root ? "" : "sudo ";
  auto other = [&](const std::string& cmd, const std::string& caps) {
    std::string alt = o.dumpable && o.uid[1] != 0 ? " (or goperf as " + user_name(o.uid[1]) + ")" : "";
    return "run `" + as_root + "goperf " + cmd + " -p " + pid + "`" + alt + ", or `sudo setcap " + caps +
           "+ep $(command -v goperf)`";
  };

  if (may_perf && may_read) {
    out.push_back(result("perf", "sampling", CheckState::kOk, "goperf record -p " + pid + " may open perf events on it and read its executable"));
  } else {
    out.push_back(result("perf", "sampling", CheckState::kFail,
                         p + " is not yours: perf_event_open on it needs CAP_PERFMON, and reading its maps and "
                             "executable CAP_SYS_PTRACE (kernel.perf_event_paranoid does not apply to another user's process)",
                         other("record", "cap_perfmon,cap_sys_ptrace")));
  }

  if (!bpf_caps) {
    out.push_back(result("bpf", "bpf sampling", CheckState::kWarn,
                         "no CAP_BPF (above): goperf record -p " + pid + " samples it with the perf backend"));
  } else if (!may_read || !yama_allows) {
    out.push_back(result("bpf", "bpf sampling", CheckState::kFail,
                         "the eBPF program may sample any process, but goperf reads " + p +
                             "'s maps and memory to find its goroutines, which needs CAP_SYS_PTRACE",
                         other("record", "cap_bpf,cap_perfmon,cap_sys_ptrace")));
  } else {
    out.push_back(result("bpf", "bpf sampling", CheckState::kOk, "the eBPF backend may sample it and read its goroutines"));
  }

  if (!may_read) {
    out.push_back(result("ptrace", "attaching", CheckState::kFail,
                         p + " is not yours: ptrace and process_vm_readv on it (snapshot, record's goroutine reads) "
                             "need CAP_SYS_PTRACE",
                         other("snapshot", "cap_sys_ptrace")));
  } else if (!yama_allows) {
    // The ptrace_scope line above carries the FIX; counting it twice would say two changes are needed.
    out.push_back(result("ptrace", "attaching", CheckState::kWarn,
                         "allowed by owner, refused by kernel.yama.ptrace_scope = " + std::to_string(scope) + " (FIX above)"));
  } else {
    out.push_back(result("ptrace", "attaching", CheckState::kOk, "goperf snapshot -p " + pid + " may attach to it"));
  }
  return out;
}

}  // namespace goperf::profiler

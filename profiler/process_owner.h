// ProcessOwner: whose process a PID is, against the user running goperf, by the kernel's own rules for
// another user's process (kernel/ptrace.c __ptrace_may_access: same real/effective/saved uid and gid, a
// dumpable process, or CAP_SYS_PTRACE; kernel/events/core.c perf_check_permission: the same, or CAP_PERFMON).
// One place for the advice doctor, record and snapshot give when the process is another user's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace goperf::profiler {

struct ProcessOwner {
  bool known = false;     // /proc/PID/status was read
  uid_t uid[3] = {0, 0, 0};  // real, effective, saved (/proc/PID/status Uid:)
  gid_t gid[3] = {0, 0, 0};
  std::vector<gid_t> groups;  // supplementary groups (Groups:)
  // False when /proc/PID is owned by root although the process is not (task_dump_owner): a set-uid
  // program, or prctl(PR_SET_DUMPABLE, 0). Only CAP_SYS_PTRACE attaches to it, and its cores follow
  // fs.suid_dumpable.
  bool dumpable = true;
};
ProcessOwner read_process_owner(pid_t pid);

// "root (uid 0)", "nobody (uid 65534)", "uid 1234" when /etc/passwd has no such user.
std::string user_name(uid_t uid);

// The user running goperf against the owner: same user means every real, effective and saved id matches
// the caller's real uid and gid (the REALCREDS comparison perf_event_open and process_vm_readv make).
bool same_user(const ProcessOwner& owner, uid_t uid, gid_t gid);

// "" when this process may read and sample `pid` as its own user would (same user, or root); else one
// sentence that says whose process it is and the exact change, e.g. "process 12 runs as root (uid 0) and
// goperf as nobody (uid 65534): only root or CAP_SYS_PTRACE+CAP_PERFMON may sample another user's
// process; run `sudo goperf record -p 12`" (plus "(or goperf as alice)" for a dumpable process of alice).
// `command` is what the user ran ("record -p 12").
std::string other_user_advice(pid_t pid, const std::string& command);

}  // namespace goperf::profiler

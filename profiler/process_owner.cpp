// Whose process a PID is: /proc/PID/status (Uid:, Gid:, Groups:) and the owner of /proc/PID, which the kernel
// sets to root for a process that is not dumpable (fs/proc/base.c task_dump_owner).
#include "profiler/process_owner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace goperf::profiler {
namespace {

constexpr int kCapSysPtrace = 19, kCapSysAdmin = 21;

template <typename T>
void read_ids(const std::string& rest, T (&ids)[3]) {
  std::istringstream in(rest);
  for (auto& id : ids) in >> id;
}

unsigned long long caller_cap_eff() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 16);
  return 0;
}

}  // namespace

ProcessOwner read_process_owner(pid_t pid) {
  ProcessOwner o;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream in(dir + "/status");
  std::string line;
  while (std::getline(in, line)) {
    o.known = true;
    if (line.rfind("Uid:", 0) == 0) read_ids(line.substr(4), o.uid);
    if (line.rfind("Gid:", 0) == 0) read_ids(line.substr(4), o.gid);
    if (line.rfind("Groups:", 0) == 0) {
      std::istringstream groups(line.substr(7));
      for (gid_t g; groups >> g;) o.groups.push_back(g);
    }
  }
  struct stat st {};
  if (o.known && stat(dir.c_str(), &st) == 0) o.dumpable = !(st.st_uid == 0 && o.uid[1] != 0);
  return o;
}

std::string user_name(uid_t uid) {
  // /etc/passwd itself rather than getpwuid: the static binary has no NSS modules to load.
  std::ifstream in("/etc/passwd");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
    if (a == std::string::npos || c == std::string::npos) continue;
    if (line.substr(b + 1, c - b - 1) == std::to_string(uid)) return line.substr(0, a) + " (uid " + std::to_string(uid) + ")";
  }
  return "uid " + std::to_string(uid);
}

bool same_user(const ProcessOwner& o, uid_t uid, gid_t gid) {
  for (int i = 0; i < 3; i++)
    if (o.uid[i] != uid || o.gid[i] != gid) return false;
  return true;
}

std::string other_user_advice(pid_t pid, const std::string& command) {
  if (geteuid() == 0 || (caller_cap_eff() >> kCapSysPtrace & 1) || (caller_cap_eff() >> kCapSysAdmin & 1)) return "";
  ProcessOwner o = read_process_owner(pid);
  if (!o.known || (same_user(o, getuid(), getgid()) && o.dumpable)) return "";
  const std::string p = "process " + std::to_string(pid);
  std::string who = !same_user(o, getuid(), getgid())
                        ? p + " runs as " + user_name(o.uid[1]) + " and goperf as " + user_name(getuid()) +
                              ": only the process's own user, root, or CAP_SYS_PTRACE and CAP_PERFMON may read and "
                              "sample another user's process (lowering kernel.perf_event_paranoid does not help)"
                        : p + " is not dumpable (a set-uid program, or prctl(PR_SET_DUMPABLE, 0)): only root or "
                              "CAP_SYS_PTRACE may read it";
  std::string also = o.dumpable && o.uid[1] != 0 ? " (or goperf as " + user_name(o.uid[1]) + ")" : "";
  return who + "; run `sudo goperf " + command + "`" + also;
}

}  // namespace goperf::profiler

// Doctor: will a crash of this process leave a core goperf can read? Follows fs/coredump.c (do_coredump:
// RLIMIT_CORE, core_pattern files and pipes), systemd-coredump's own RLIMIT_CORE rule, and the
// coredump_filter bits of Documentation/filesystems/proc.rst.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fstream>
#include <optional>
#include <sstream>

#include "profiler/doctor/doctor_checks.h"
#include "profiler/process_owner.h"

namespace goperf::profiler {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

CheckResult result(std::string name, CheckState s, std::string detail, std::string fix = "") {
  return {"core", std::move(name), s, std::move(detail), std::move(fix)};
}

// The soft "Max core file size" of /proc/PID/limits: bytes, or -1 for unlimited; nullopt if unreadable.
std::optional<long long> core_limit_of(const std::string& limits) {
  std::istringstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) != 0) continue;
    std::istringstream fields(line.substr(18));
    std::string soft;
    fields >> soft;
    if (soft == "unlimited") return -1;
    return std::atoll(soft.c_str());
  }
  return std::nullopt;
}

bool in_container(const DoctorContext& c) {
  if (access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0) return true;
  auto cg = read_file(c.proc_root + "/1/cgroup").value_or("");
  for (const char* hint : {"docker", "kubepods", "containerd", "libpod", "lxc"})
    if (cg.find(hint) != std::string::npos) return true;
  return false;
}

// Whether the target's user may create a file in `dir` (the kernel writes the core as the crashing process,
// fs/coredump.c): the permission bits against its effective uid and groups. Without a PID, the caller.
bool writable_for_target(const std::string& dir, const DoctorContext& c, const ProcessOwner& o) {
  if (c.pid == 0 || !o.known) return access(dir.c_str(), W_OK | X_OK) == 0;
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return false;
  if (o.uid[1] == 0) return true;
  if (st.st_uid == o.uid[1]) return (st.st_mode & S_IWUSR) && (st.st_mode & S_IXUSR);
  bool in_group = st.st_gid == o.gid[1] || std::find(o.groups.begin(), o.groups.end(), st.st_gid) != o.groups.end();
  if (in_group) return (st.st_mode & S_IWGRP) && (st.st_mode & S_IXGRP);
  return (st.st_mode & S_IWOTH) && (st.st_mode & S_IXOTH);
}

// Who the checks are about: the process of -p (its /proc directory and owner) or, without a PID, this shell.
struct CoreTarget {
  std::string pid;  // "" without a PID
  std::string dir;  // /proc/PID or /proc/self
  ProcessOwner owner;
  std::string sudo;  // "sudo " when changing another user's process, which is done as root
  std::string user;  // the program's user, for the fixes
};

CoreTarget core_target(const DoctorContext& c) {
  CoreTarget t;
  t.pid = c.pid != 0 ? std::to_string(c.pid) : "";
  t.dir = c.proc_root + "/" + (c.pid != 0 ? t.pid : std::string("self"));
  t.owner = c.pid != 0 ? read_process_owner(c.pid) : ProcessOwner{};
  const bool others = c.pid != 0 && !c.root && t.owner.known && t.owner.uid[1] != c.uid;
  t.sudo = others ? "sudo " : "";
  t.user = t.owner.known ? user_name(t.owner.uid[1]) : std::string("the program's user");
  return t;
}

// RLIMIT_CORE: a core is written only when the limit is at least a page (systemd-coredump applies the same
// rule to piped cores).
CheckResult check_core_limit(const DoctorContext& c, const CoreTarget& t) {
  std::optional<long long> limit;
  if (c.pid != 0) {
    if (auto limits = read_file(t.dir + "/limits")) limit = core_limit_of(*limits);
  } else {
    rlimit rl{};
    if (getrlimit(RLIMIT_CORE, &rl) == 0) limit = rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(rl.rlim_cur);
  }
  if (!limit) return result("RLIMIT_CORE", CheckState::kWarn, "cannot read " + t.dir + "/limits", "check the PID");
  if (*limit == -1) return result("RLIMIT_CORE", CheckState::kOk, "core file size unlimited");
  if (*limit < 4096) {
    return result("RLIMIT_CORE", CheckState::kFail,
                  (c.pid != 0 ? "process " + t.pid : std::string("this shell")) + " has RLIMIT_CORE = " +
                      std::to_string(*limit) + ": no core will be written",
                  c.pid != 0 ? "run `" + t.sudo + "prlimit --pid " + t.pid + " --core=unlimited` (or LimitCORE=infinity in its systemd unit)"
                             : "run `ulimit -c unlimited` before starting the program (or LimitCORE=infinity in its unit)");
  }
  return result("RLIMIT_CORE", CheckState::kWarn,
                "RLIMIT_CORE = " + std::to_string(*limit) + " bytes: larger cores are cut short (truncated cores lose goroutines)",
                c.pid != 0 ? "run `" + t.sudo + "prlimit --pid " + t.pid + " --core=unlimited`" : "run `ulimit -c unlimited`");
}

// A core_pattern starting with '|': systemd-coredump (and its Storage= setting) or another program.
CheckResult check_piped_pattern(const std::string& pattern) {
  if (pattern.find("systemd-coredump") == std::string::npos) {
    return result("core_pattern", CheckState::kWarn, "cores are piped to a program: " + pattern,
                  "ask that program where it stores cores (apport: /var/crash, then `apport-unpack`)");
  }
  std::string storage = "external";
  if (auto conf = read_file("/etc/systemd/coredump.conf")) {
    auto pos = conf->find("\nStorage=");
    if (pos != std::string::npos) storage = conf->substr(pos + 9, conf->find('\n', pos + 9) - pos - 9);
  }
  if (storage == "none") {
    return result("core_pattern", CheckState::kFail, "cores go to systemd-coredump, which is set to Storage=none",
                  "set Storage=external in /etc/systemd/coredump.conf");
  }
  return result("core_pattern", CheckState::kOk,
                "cores go to systemd-coredump (" + pattern + "): find them with `coredumpctl list`; "
                "goperf core reads them compressed from /var/lib/systemd/coredump/, or `coredumpctl dump PID -o core`");
}

// A relative core_pattern: the core is written in the crashing process's working directory.
CheckResult check_relative_pattern(const std::string& pattern, const DoctorContext& c, const CoreTarget& t) {
  std::string cwd = c.pid != 0 ? t.dir + "/cwd" : ".";
  char real[4096] = {0};
  ssize_t n = c.pid != 0 ? readlink(cwd.c_str(), real, sizeof real - 1) : -1;
  std::string where = n > 0 ? std::string(real, static_cast<size_t>(n)) : "the process's working directory";
  bool writable = writable_for_target(n > 0 ? where : std::string("."), c, t.owner);
  if (c.pid != 0 && n <= 0) {
    return result("core_pattern", CheckState::kWarn, "cores are written as '" + pattern + "' in the working directory of process " +
                                                         t.pid + ", which goperf cannot read (" + cwd + ")",
                  "run `sudo goperf doctor -p " + t.pid + "` to check it");
  }
  if (writable) return result("core_pattern", CheckState::kOk, "cores are written as '" + pattern + "' in " + where);
  return result("core_pattern", CheckState::kFail, "cores are written as '" + pattern + "' in " + where + ", which " +
                                                       (c.pid != 0 ? t.user : std::string("you")) + " cannot write",
                "start the program in a directory " + (c.pid != 0 ? t.user : std::string("you")) +
                    " can write, or `sudo sysctl -w kernel.core_pattern=/var/tmp/core.%e.%p`");
}

// kernel.core_pattern: where do_coredump writes (or pipes) the core.
CheckResult check_core_pattern(const DoctorContext& c, const CoreTarget& t) {
  auto pattern = read_file(c.proc_root + "/sys/kernel/core_pattern");
  if (!pattern) return result("core_pattern", CheckState::kWarn, "cannot read /proc/sys/kernel/core_pattern", "");
  if (!pattern->empty() && (*pattern)[0] == '|') return check_piped_pattern(*pattern);
  if (pattern->empty()) {
    return result("core_pattern", CheckState::kFail, "kernel.core_pattern is empty: no core is written",
                  "run `sudo sysctl -w kernel.core_pattern=core`");
  }
  if ((*pattern)[0] != '/') return check_relative_pattern(*pattern, c, t);
  std::string d = pattern->substr(0, pattern->rfind('/') + 1);
  if (writable_for_target(d, c, t.owner)) return result("core_pattern", CheckState::kOk, "cores are written to " + *pattern);
  return result("core_pattern", CheckState::kFail, "cores go to " + *pattern + " but " + d + " is not writable by " + t.user,
                "run `sudo install -d -m 1777 " + d + "` (or make it writable by " + t.user + ")");
}

// coredump_filter: bit 0 anonymous private (heap, goroutine stacks), bit 1 anonymous shared, bit 4 ELF headers
// (the build id goperf matches the binary with). Nothing when it cannot be read.
std::optional<CheckResult> check_coredump_filter(const CoreTarget& t) {
  auto filter = read_file(t.dir + "/coredump_filter");
  if (!filter) return std::nullopt;
  const std::string fix = !t.sudo.empty() ? "run `echo 0x33 | sudo tee " + t.dir + "/coredump_filter`"
                                          : "run `echo 0x33 > " + t.dir + "/coredump_filter`";
  unsigned long bits = std::strtoul(filter->c_str(), nullptr, 16);
  if (!(bits & 1)) {
    return result("coredump_filter", CheckState::kFail, "coredump_filter = " + *filter + ": anonymous private memory "
                                                          "(Go heap and goroutine stacks) is left out of cores",
                  fix);
  }
  if (!(bits & 0x10)) {
    return result("coredump_filter", CheckState::kWarn, "coredump_filter = " + *filter + ": ELF headers are left out, "
                                                          "so the core cannot be matched to its binary by build id",
                  fix + " (or pass --force to goperf core)");
  }
  return result("coredump_filter", CheckState::kOk, "coredump_filter = " + *filter + " (heap, stacks and ELF headers dumped)");
}

}  // namespace

std::vector<CheckResult> check_cores(const DoctorContext& c) {
  const CoreTarget t = core_target(c);
  std::vector<CheckResult> out;
  out.push_back(check_core_limit(c, t));
  out.push_back(check_core_pattern(c, t));
  if (auto filter = check_coredump_filter(t)) out.push_back(std::move(*filter));
  if (in_container(c)) {
    out.push_back(result("container", CheckState::kWarn, "running in a container: kernel.core_pattern is the host's",
                         "a relative core_pattern writes inside the container's working directory; a piped one "
                         "(systemd-coredump, apport) runs on the host: fetch the core there"));
  }
  return out;
}

}  // namespace goperf::profiler

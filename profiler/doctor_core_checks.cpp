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

#include "profiler/doctor_checks.h"
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

}  // namespace

std::vector<CheckResult> check_cores(const DoctorContext& c) {
  std::vector<CheckResult> out;
  std::string pid = c.pid != 0 ? std::to_string(c.pid) : "";
  std::string dir = c.proc_root + "/" + (c.pid != 0 ? pid : std::string("self"));
  const ProcessOwner owner = c.pid != 0 ? read_process_owner(c.pid) : ProcessOwner{};
  // Changes to another user's process are made as root.
  const bool others = c.pid != 0 && !c.root && owner.known && owner.uid[1] != c.uid;
  const std::string sudo = others ? "sudo " : "";
  const std::string user = owner.known ? user_name(owner.uid[1]) : std::string("the program's user");

  // RLIMIT_CORE: a core is written only when the limit is at least a page (systemd-coredump applies the same
  // rule to piped cores).
  std::optional<long long> limit;
  if (c.pid != 0) {
    if (auto limits = read_file(dir + "/limits")) limit = core_limit_of(*limits);
  } else {
    rlimit rl{};
    if (getrlimit(RLIMIT_CORE, &rl) == 0) limit = rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(rl.rlim_cur);
  }
  if (!limit) {
    out.push_back(result("RLIMIT_CORE", CheckState::kWarn, "cannot read " + dir + "/limits", "check the PID"));
  } else if (*limit == -1) {
    out.push_back(result("RLIMIT_CORE", CheckState::kOk, "core file size unlimited"));
  } else if (*limit < 4096) {
    out.push_back(result("RLIMIT_CORE", CheckState::kFail,
                         (c.pid != 0 ? "process " + pid : std::string("this shell")) + " has RLIMIT_CORE = " +
                             std::to_string(*limit) + ": no core will be written",
                         c.pid != 0 ? "run `" + sudo + "prlimit --pid " + pid + " --core=unlimited` (or LimitCORE=infinity in its systemd unit)"
                                    : "run `ulimit -c unlimited` before starting the program (or LimitCORE=infinity in its unit)"));
  } else {
    out.push_back(result("RLIMIT_CORE", CheckState::kWarn,
                         "RLIMIT_CORE = " + std::to_string(*limit) + " bytes: larger cores are cut short (truncated cores lose goroutines)",
                         c.pid != 0 ? "run `" + sudo + "prlimit --pid " + pid + " --core=unlimited`" : "run `ulimit -c unlimited`"));
  }

  auto pattern = read_file(c.proc_root + "/sys/kernel/core_pattern");
  if (!pattern) {
    out.push_back(result("core_pattern", CheckState::kWarn, "cannot read /proc/sys/kernel/core_pattern", ""));
  } else if (!pattern->empty() && (*pattern)[0] == '|') {
    if (pattern->find("systemd-coredump") != std::string::npos) {
      std::string storage = "external";
      if (auto conf = read_file("/etc/systemd/coredump.conf")) {
        auto pos = conf->find("\nStorage=");
        if (pos != std::string::npos) storage = conf->substr(pos + 9, conf->find('\n', pos + 9) - pos - 9);
      }
      if (storage == "none") {
        out.push_back(result("core_pattern", CheckState::kFail, "cores go to systemd-coredump, which is set to Storage=none",
                             "set Storage=external in /etc/systemd/coredump.conf"));
      } else {
        out.push_back(result("core_pattern", CheckState::kOk,
                             "cores go to systemd-coredump (" + *pattern + "): find them with `coredumpctl list`; "
                             "goperf core reads them compressed from /var/lib/systemd/coredump/, or `coredumpctl dump PID -o core`"));
      }
    } else {
      out.push_back(result("core_pattern", CheckState::kWarn, "cores are piped to a program: " + *pattern,
                           "ask that program where it stores cores (apport: /var/crash, then `apport-unpack`)"));
    }
  } else if (pattern->empty()) {
    out.push_back(result("core_pattern", CheckState::kFail, "kernel.core_pattern is empty: no core is written",
                         "run `sudo sysctl -w kernel.core_pattern=core`"));
  } else if ((*pattern)[0] == '/') {
    std::string d = pattern->substr(0, pattern->rfind('/') + 1);
    if (writable_for_target(d, c, owner)) {
      out.push_back(result("core_pattern", CheckState::kOk, "cores are written to " + *pattern));
    } else {
      out.push_back(result("core_pattern", CheckState::kFail, "cores go to " + *pattern + " but " + d + " is not writable by " + user,
                           "run `sudo install -d -m 1777 " + d + "` (or make it writable by " + user + ")"));
    }
  } else {
    std::string cwd = c.pid != 0 ? dir + "/cwd" : ".";
    char real[4096] = {0};
    ssize_t n = c.pid != 0 ? readlink(cwd.c_str(), real, sizeof real - 1) : -1;
    std::string where = n > 0 ? std::string(real, static_cast<size_t>(n)) : "the process's working directory";
    bool writable = writable_for_target(n > 0 ? where : std::string("."), c, owner);
    if (c.pid != 0 && n <= 0) {
      out.push_back(result("core_pattern", CheckState::kWarn, "cores are written as '" + *pattern + "' in the working directory of process " +
                                                                  pid + ", which goperf cannot read (" + cwd + ")",
                           "run `sudo goperf doctor -p " + pid + "` to check it"));
    } else if (writable) {
      out.push_back(result("core_pattern", CheckState::kOk, "cores are written as '" + *pattern + "' in " + where));
    } else {
      out.push_back(result("core_pattern", CheckState::kFail, "cores are written as '" + *pattern + "' in " + where + ", which " +
                                                                  (c.pid != 0 ? user : std::string("you")) + " cannot write",
                           "start the program in a directory " + (c.pid != 0 ? user : std::string("you")) +
                               " can write, or `sudo sysctl -w kernel.core_pattern=/var/tmp/core.%e.%p`"));
    }
  }

  // coredump_filter: bit 0 anonymous private (heap, goroutine stacks), bit 1 anonymous shared, bit 4 ELF headers
  // (the build id goperf matches the binary with).
  if (auto filter = read_file(dir + "/coredump_filter")) {
    unsigned long bits = std::strtoul(filter->c_str(), nullptr, 16);
    if (!(bits & 1)) {
      out.push_back(result("coredump_filter", CheckState::kFail, "coredump_filter = " + *filter + ": anonymous private memory "
                                                                   "(Go heap and goroutine stacks) is left out of cores",
                           others ? "run `echo 0x33 | sudo tee " + dir + "/coredump_filter`" : "run `echo 0x33 > " + dir + "/coredump_filter`"));
    } else if (!(bits & 0x10)) {
      out.push_back(result("coredump_filter", CheckState::kWarn, "coredump_filter = " + *filter + ": ELF headers are left out, "
                                                                   "so the core cannot be matched to its binary by build id",
                           (others ? "run `echo 0x33 | sudo tee " + dir + "/coredump_filter`" : "run `echo 0x33 > " + dir + "/coredump_filter`") + " (or pass --force to goperf core)"));
    } else {
      out.push_back(result("coredump_filter", CheckState::kOk, "coredump_filter = " + *filter + " (heap, stacks and ELF headers dumped)"));
    }
  }

  if (in_container(c)) {
    out.push_back(result("container", CheckState::kWarn, "running in a container: kernel.core_pattern is the host's",
                         "a relative core_pattern writes inside the container's working directory; a piped one "
                         "(systemd-coredump, apport) runs on the host: fetch the core there"));
  }
  return out;
}

}  // namespace goperf::profiler

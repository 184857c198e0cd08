// The reasons, most certain first. CPU time comes from /proc/PID/stat (proc(5): fields 14 and 15).
#include "profiler/record/record_no_samples.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace goperf::profiler {
namespace {

std::string comm(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (in) std::getline(in, name);
  return name.empty() ? "?" : name;
}

// The child processes of pid (every thread's children: /proc/PID/task/TID/children).
std::vector<uint32_t> children(uint32_t pid) {
  std::vector<uint32_t> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    uint32_t child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

long read_long(const char* path) {
  std::ifstream in(path);
  long v = -1;
  if (in) in >> v;
  return v;
}

// "pid 1234 (server)" of the busiest child that has used CPU time at all, "" when none has.
std::string busy_child(const std::vector<uint32_t>& pids) {
  uint32_t best = 0;
  uint64_t best_ticks = 0;
  for (uint32_t pid : pids) {
    for (uint32_t c : children(pid)) {
      const uint64_t t = process_cpu_ticks(c);
      if (t > best_ticks) {
        best = c;
        best_ticks = t;
      }
    }
  }
  if (best == 0) return "";
  return "its child process " + std::to_string(best) + " (" + comm(best) + ") is the one using CPU: record -p " +
         std::to_string(best);
}

}  // namespace

uint64_t process_cpu_ticks(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return 0;
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3, utime 14 and stime 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

std::string explain_no_samples(const NoSampleFacts& f) {
  char text[512];
  if (f.target_exited && f.seconds < 1.0) {
    std::string status = f.child_exit_code >= 0 ? " (exit status " + std::to_string(f.child_exit_code) + ")" : "";
    std::snprintf(text, sizeof(text), "no samples: %s exited after %.2fs%s, before a sample was taken",
                  f.prog.c_str(), f.seconds, status.c_str());
    return text;
  }
  uint64_t used = 0;
  for (size_t i = 0; i < f.pids.size() && i < f.cpu_before.size() && i < f.cpu_after.size(); ++i) {
    if (f.cpu_after[i] > f.cpu_before[i]) used += f.cpu_after[i] - f.cpu_before[i];
  }
  const long hz = sysconf(_SC_CLK_TCK);
  if (used == 0) {
    std::string child = f.child ? "" : busy_child(f.pids);
    std::snprintf(text, sizeof(text),
                  "no samples: %s (pid %u) used no CPU time while recorded: it was idle (sleeping or blocked)%s%s",
                  f.prog.c_str(), f.pids.empty() ? 0 : f.pids[0], child.empty() ? "" : "; ", child.c_str());
    return text;
  }
  const double cpu_s = hz > 0 ? static_cast<double>(used) / static_cast<double>(hz) : 0;
  if (f.user_only) {
    std::snprintf(text, sizeof(text),
                  "no samples: %s used %.2fs of CPU, all of it in the kernel, which --user-only (:u) leaves out",
                  f.prog.c_str(), cpu_s);
    return text;
  }
  const long paranoid = read_long("/proc/sys/kernel/perf_event_paranoid");
  std::snprintf(text, sizeof(text),
                "no samples: %s used %.2fs of CPU that the events did not see (kernel.perf_event_paranoid=%ld "
                "hides the kernel's share from this user: run as root or grant CAP_PERFMON)",
                f.prog.c_str(), cpu_s, paranoid);
  return text;
}

}  // namespace goperf::profiler

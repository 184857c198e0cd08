// /proc/PID/status and /proc/PID/stat read once per check (proc(5)).
#include "unwind/process_status.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace goperf::unwind {
namespace {

// PF_KTHREAD (include/linux/sched.h): the task runs only in the kernel. The flags are field 9 of
// /proc/PID/stat, counted after the parenthesised command name (which may itself hold spaces and ')').
constexpr unsigned long kPfKthread = 0x00200000;

bool is_kernel_thread(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return false;
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 9 && fields >> field; ++i) {
    if (i == 9) return (std::strtoul(field.c_str(), nullptr, 10) & kPfKthread) != 0;
  }
  return false;
}

std::string after_key(const std::string& line, size_t key_size) {
  size_t b = line.find_first_not_of(" \t", key_size);
  return b == std::string::npos ? "" : line.substr(b);
}

}  // namespace

ProcessStatus read_process_status(pid_t pid) {
  ProcessStatus st;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return st;
  st.exists = true;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Name:", 0) == 0) {
      st.name = after_key(line, 5);
    } else if (line.rfind("State:", 0) == 0) {
      std::string v = after_key(line, 6);
      if (!v.empty()) st.state = v[0];
    } else if (line.rfind("Tgid:", 0) == 0) {
      st.tgid = static_cast<pid_t>(std::atoi(line.c_str() + 5));
    } else if (line.rfind("TracerPid:", 0) == 0) {
      st.tracer_pid = static_cast<pid_t>(std::atoi(line.c_str() + 10));
    }
  }
  st.kernel_thread = is_kernel_thread(pid);
  return st;
}

Status check_target_process(pid_t pid) {
  const std::string id = std::to_string(pid);
  ProcessStatus st = read_process_status(pid);
  if (!st.exists) return make_error(ErrorCode::kNotFound, "process " + id + " does not exist");
  const std::string who = "process " + id + " (" + st.name + ")";
  if (st.kernel_thread) return make_error(ErrorCode::kInvalidArgument, who + " is a kernel thread, not a program");
  if (st.tgid != 0 && st.tgid != pid) {
    // /proc/TID is reachable (though not listed) for every thread.
    ProcessStatus leader = read_process_status(st.tgid);
    const std::string tgid = std::to_string(st.tgid);
    return make_error(ErrorCode::kInvalidArgument, id + " is a thread of process " + tgid + " (" + leader.name +
                                                       "), not a process: give -p " + tgid);
  }
  if (st.state == 'Z' || st.state == 'X') return make_error(ErrorCode::kUnavailable, who + " is a zombie (exited, not yet reaped)");
  return {};
}

}  // namespace goperf::unwind

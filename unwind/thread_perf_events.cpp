// The per-thread perf event opening shared by the perf and eBPF samplers.
#include "unwind/thread_perf_events.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "unwind/process_threads.h"

namespace goperf::unwind {

void set_thread_event_flags(perf_event_attr& attr, bool before_exec) {
  attr.inherit = 1;
  attr.disabled = before_exec ? 1 : 0;
  attr.enable_on_exec = before_exec ? 1 : 0;
}

Result<int> open_thread_event(perf_event_attr& attr, pid_t tid, int cpu, int* err) {
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd >= 0) return fd;
  const int e = errno;
  if (err != nullptr) *err = e;
  if (e == ESRCH) return make_error(ErrorCode::kNotFound, "thread " + std::to_string(tid) + " gone");
  return make_error(e == EACCES || e == EPERM ? ErrorCode::kPermission : ErrorCode::kUnsupported,
                    "perf_event_open on thread " + std::to_string(tid) + ": " + std::strerror(e));
}

Status open_on_target_threads(std::span<const uint32_t> pids, bool before_exec,
                              const std::function<Status(pid_t tid, uint32_t pid)>& open_on) {
  for (uint32_t pid : pids) {
    if (before_exec) {
      if (auto st = open_on(static_cast<pid_t>(pid), pid); !st) return st;
      continue;
    }
    auto st = attach_threads(static_cast<pid_t>(pid), [&](pid_t tid) { return open_on(tid, pid); });
    if (!st) return st;
  }
  return {};
}

}  // namespace goperf::unwind

// PtraceSession: stops every thread of a process with PTRACE_SEIZE + PTRACE_INTERRUPT and resumes
// them on detach (RAII). SEIZE leaves no group-stop behind: if goperf dies at any instant (SIGKILL
// included), the kernel detaches and the target runs on. Threads created meanwhile are attached
// through PTRACE_O_TRACECLONE; threads that exit meanwhile are dropped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "symbolize/result.h"
#include "unwind/process_status.h"
#include "unwind/register_set.h"

namespace goperf::unwind {

struct TracedThread {
  pid_t tid = 0;
  RegisterSet regs;
  int pending_signal = 0;  // a signal the thread was about to take; re-delivered on detach
};

class PtraceSession {
 public:
  // Checks the process (check_target_process, then already traced: naming the tracer) and stops all its threads.
  // Errors are one line: kNotFound, kPermission (naming CAP_SYS_PTRACE / kernel.yama.ptrace_scope),
  // kUnavailable (zombie, exiting, traced).
  static Result<std::unique_ptr<PtraceSession>> attach(pid_t pid, int timeout_ms = 2000);
  ~PtraceSession();  // detaches if still attached
  PtraceSession(const PtraceSession&) = delete;
  PtraceSession& operator=(const PtraceSession&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<TracedThread>& threads() const { return threads_; }

  // Resumes every thread (re-delivering pending signals). Idempotent.
  void detach();
  // Nanoseconds between the first PTRACE_INTERRUPT and the end of detach() (or now, if attached).
  uint64_t paused_ns() const;

 private:
  explicit PtraceSession(pid_t pid) : pid_(pid) {}
  Status stop_all(int timeout_ms);
  // The steps of stop_all: seize and interrupt the threads not held yet (true if any was added), wait until
  // every held thread has stopped, and book one waitpid report.
  Result<bool> seize_new_threads(std::set<pid_t>& held);
  Status wait_for_stops(std::set<pid_t>& held, std::set<pid_t>& stopped, int timeout_ms);
  void on_wait_status(pid_t tid, int wstatus, std::set<pid_t>& held, std::set<pid_t>& stopped);

  pid_t pid_;
  std::vector<TracedThread> threads_;
  std::vector<pid_t> seized_;  // every tid we hold (stopped or not yet)
  uint64_t start_ns_ = 0, end_ns_ = 0;
  bool attached_ = false;
};

}  // namespace goperf::unwind

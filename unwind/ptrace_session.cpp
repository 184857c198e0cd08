// PtraceSession: seize, interrupt, wait for every thread's stop, read registers, detach.
#include "unwind/ptrace_session.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "unwind/process_threads.h"
#include "unwind/ptrace_registers.h"

namespace goperf::unwind {

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

Error permission_error(pid_t pid) {
  std::string msg = "not permitted to ptrace process " + std::to_string(pid) + ": ";
  std::string yama = read_first_line("/proc/sys/kernel/yama/ptrace_scope");
  if (geteuid() != 0) {
    msg += "run as the same user as the target or with CAP_SYS_PTRACE";
    if (!yama.empty() && yama != "0") msg += ", and kernel.yama.ptrace_scope is " + yama + " (0 allows attaching to own processes)";
  } else if (yama == "3") {
    msg += "kernel.yama.ptrace_scope is 3 (attaching disabled until reboot)";
  } else {
    msg += "CAP_SYS_PTRACE is missing (container or security module?)";
    if (!yama.empty()) msg += "; kernel.yama.ptrace_scope is " + yama;
  }
  return make_error(ErrorCode::kPermission, msg);
}

}  // namespace

Result<std::unique_ptr<PtraceSession>> PtraceSession::attach(pid_t pid, int timeout_ms) {
  if (auto usable = check_target_process(pid); !usable) return std::move(usable).error();
  ProcessStatus st = read_process_status(pid);
  const std::string who = "process " + std::to_string(pid);
  if (st.tracer_pid != 0) {
    ProcessStatus tracer = read_process_status(st.tracer_pid);
    return make_error(ErrorCode::kUnavailable, who + " is already traced by process " + std::to_string(st.tracer_pid) +
                                                   (tracer.name.empty() ? "" : " (" + tracer.name + ")"));
  }
  std::unique_ptr<PtraceSession> s(new PtraceSession(pid));
  auto status = s->stop_all(timeout_ms);
  if (!status) {
    s->detach();
    return std::move(status).error();
  }
  return s;
}

Status PtraceSession::stop_all(int timeout_ms) {
  start_ns_ = now_ns();
  attached_ = true;
  std::set<pid_t> held, stopped;
  // Seize and interrupt until the task list has nothing new: threads may be cloned meanwhile (those
  // cloned by a seized thread are attached by the kernel thanks to TRACECLONE and reported by waitpid).
  for (int round = 0; round < 100; ++round) {
    auto added = seize_new_threads(held);
    if (!added) return std::move(added).error();
    if (!*added && round > 0) break;
    if (held.empty()) return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid_) + " has no threads (exited?)");
    if (auto waited = wait_for_stops(held, stopped, timeout_ms); !waited) return waited;
  }
  // Registers of every stopped thread.
  for (auto& t : threads_) {
    if (auto regs = read_ptrace_registers(t.tid)) t.regs = *regs;
  }
  std::sort(threads_.begin(), threads_.end(), [](const auto& a, const auto& b) { return a.tid < b.tid; });
  if (threads_.empty()) return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid_) + " exited");
  return {};
}

Result<bool> PtraceSession::seize_new_threads(std::set<pid_t>& held) {
  bool added = false;
  for (pid_t tid : process_threads(pid_)) {
    if (held.count(tid)) continue;
    if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACECLONE)) != 0) {
      int err = errno;
      if (err == ESRCH) continue;  // exited meanwhile
      if (err == EPERM && held.empty()) {
        ProcessStatus st = read_process_status(pid_);
        if (!st.exists) return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid_) + " exited");
        if (st.tracer_pid != 0)
          return make_error(ErrorCode::kUnavailable, "process " + std::to_string(pid_) +
                                                         " is already traced by process " + std::to_string(st.tracer_pid));
        return permission_error(pid_);
      }
      if (err == EPERM) continue;  // a thread already traced by the kernel for us (clone race)
      return make_error(ErrorCode::kIo, "PTRACE_SEIZE " + std::to_string(tid) + ": " + std::strerror(err));
    }
    held.insert(tid);
    seized_.push_back(tid);
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    added = true;
  }
  return added;
}

// Waits for the stops of everything seized so far.
Status PtraceSession::wait_for_stops(std::set<pid_t>& held, std::set<pid_t>& stopped, int timeout_ms) {
  uint64_t deadline = now_ns() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  while (stopped.size() < held.size()) {
    int wstatus = 0;
    pid_t tid = waitpid(-1, &wstatus, __WALL | WNOHANG);
    if (tid == 0) {
      if (now_ns() > deadline)
        return make_error(ErrorCode::kUnavailable, "threads of process " + std::to_string(pid_) +
                                                       " did not stop within " + std::to_string(timeout_ms) + " ms");
      timespec ts{0, 20000};
      nanosleep(&ts, nullptr);
      continue;
    }
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every tracee is gone
    }
    on_wait_status(tid, wstatus, held, stopped);
  }
  return {};
}

// One waitpid report: a thread gone, a first stop of a thread attached by TRACECLONE, a clone event (the
// child is held from now on) or a signal-delivery-stop (the signal is held and given back on detach).
void PtraceSession::on_wait_status(pid_t tid, int wstatus, std::set<pid_t>& held, std::set<pid_t>& stopped) {
  if (WIFEXITED(wstatus) || WIFSIGNALED(wstatus)) {
    held.erase(tid);
    stopped.erase(tid);
    seized_.erase(std::remove(seized_.begin(), seized_.end(), tid), seized_.end());
    threads_.erase(std::remove_if(threads_.begin(), threads_.end(), [&](auto& t) { return t.tid == tid; }), threads_.end());
    return;
  }
  if (!WIFSTOPPED(wstatus)) return;
  if (!held.count(tid)) {  // a thread attached by TRACECLONE: its first stop
    held.insert(tid);
    seized_.push_back(tid);
  }
  int event = wstatus >> 16;
  int sig = WSTOPSIG(wstatus);
  TracedThread t;
  t.tid = tid;
  if (event == PTRACE_EVENT_CLONE) {
    unsigned long child = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
    if (child && !held.count(static_cast<pid_t>(child))) {
      held.insert(static_cast<pid_t>(child));
      seized_.push_back(static_cast<pid_t>(child));
    }
  } else if (event == 0 && sig != SIGTRAP) {
    t.pending_signal = sig;  // signal-delivery-stop: hold the signal, give it back on detach
  }
  if (stopped.insert(tid).second) threads_.push_back(t);
}

void PtraceSession::detach() {
  if (!attached_) return;
  for (pid_t tid : seized_) {
    int sig = 0;
    for (const auto& t : threads_)
      if (t.tid == tid) sig = t.pending_signal;
    ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(sig)));
  }
  seized_.clear();
  attached_ = false;
  end_ns_ = now_ns();
}

uint64_t PtraceSession::paused_ns() const {
  if (start_ns_ == 0) return 0;
  return (attached_ ? now_ns() : end_ns_) - start_ns_;
}

PtraceSession::~PtraceSession() { detach(); }

}  // namespace goperf::unwind

// ChildProcess: `goperf record -- CMD`: the command is forked and held before exec until the sampler's
// events are attached (enable_on_exec), so the profile covers it from its first instruction. As with
// `perf record -- CMD`, the program does not outlive goperf: it gets SIGTERM when the recording stops
// before it exits (Ctrl-C, -d), and from the kernel (PR_SET_PDEATHSIG) when goperf dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "symbolize/result.h"

namespace goperf::profiler {

class ChildProcess {
 public:
  // Forks; the child waits for release(). It stays in goperf's process group, so Ctrl-C at the terminal
  // reaches it directly too.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv);
  // Lets the child exec. Fails with the exec error (command not found, not executable).
  Status release();
  // Before release(): the child exits without running the command (goperf failed to start), and is reaped.
  void abandon();
  // Non-blocking: true once the child has exited (its status is then in exit_status()).
  bool exited();
  // SIGTERM to the program if it is still running (the recording stopped first).
  void terminate();
  // Waits up to timeout_ms for the child to exit.
  bool wait(int timeout_ms);
  pid_t pid() const { return pid_; }
  int exit_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;    // write end: one byte lets the child exec
  int err_fd_ = -1;   // read end: the child writes errno if exec fails (CLOEXEC otherwise closes it)
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace goperf::profiler

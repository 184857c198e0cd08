// ProcessStatus: what /proc says about a process id before goperf opens or attaches to it, and the one
// line every command prints when the id names nothing it can work on (same wording in every command).
#pragma once

#include <sys/types.h>

#include <string>

#include "symbolize/result.h"

namespace goperf::unwind {

struct ProcessStatus {
  bool exists = false;
  char state = '?';          // R, S, D, T, t, Z, X
  pid_t tgid = 0;            // the process this id belongs to (differs from the id for a thread)
  pid_t tracer_pid = 0;
  bool kernel_thread = false;  // PF_KTHREAD: no user space, nothing to sample or attach to
  std::string name;
};
ProcessStatus read_process_status(pid_t pid);

// Ok when pid names a live user-space process (a thread-group leader that has not exited); else an error
// whose message is the line to print, naming the process:
//   kNotFound         "process 123 does not exist"
//   kInvalidArgument  "process 2 (kthreadd) is a kernel thread, not a program"
//                     "124 is a thread of process 123 (prog), not a process: give -p 123"
//   kUnavailable      "process 123 (prog) is a zombie (exited, not yet reaped)"
// A thread id is refused rather than taken for its process: goperf works on whole processes, and a
// silent switch would profile or stop threads the user did not name.
Status check_target_process(pid_t pid);

}  // namespace goperf::unwind

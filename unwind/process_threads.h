// The threads of a process, from /proc/PID/task: what the samplers attach to and ptrace seizes.
#pragma once

#include <sys/types.h>

#include <vector>

namespace goperf::unwind {

// The thread ids of `pid` (empty when the process is gone or /proc is not readable), in directory order.
std::vector<pid_t> process_threads(pid_t pid);

}  // namespace goperf::unwind

// The threads of a process, from /proc/PID/task: what the samplers attach to and ptrace seizes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <vector>

#include "symbolize/result.h"

namespace goperf::unwind {

// The thread ids of `pid` (empty when the process is gone or /proc is not readable), in directory order.
std::vector<pid_t> process_threads(pid_t pid);

// Calls attach(tid) for every thread of `pid`, rescanning until a scan finds no new thread, so that
// threads created while attaching are caught (later ones are for the events' inherit flag). A thread
// that is gone by then (attach returns kNotFound) is skipped; any other error ends it. kNotFound when
// no thread could be attached: the process is gone.
Status attach_threads(pid_t pid, const std::function<Status(pid_t)>& attach);

}  // namespace goperf::unwind

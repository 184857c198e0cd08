// The registers of one ptrace-stopped thread, read the host architecture's way (ptrace_registers_<arch>.cpp).
#pragma once

#include <sys/types.h>

#include "symbolize/result.h"
#include "unwind/register_set.h"

namespace goperf::unwind {

// The thread must be in a ptrace stop of this process's.
Result<RegisterSet> read_ptrace_registers(pid_t tid);

}  // namespace goperf::unwind

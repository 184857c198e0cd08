// -p PID, read the same way by every command (record, snapshot, doctor, info), with one error line for a value
// that is not a process id. What the id then names (nothing, a thread, a kernel thread, a zombie) is said by
// unwind::check_target_process, also in one wording for every command.
#pragma once

#include <string>

namespace goperf::profiler {

// The process id in `text` (decimal digits, 1 to 999999999); else throws the option error
// "-p 'abc': not a process id (a positive number)".
int parse_pid(const std::string& text);

}  // namespace goperf::profiler

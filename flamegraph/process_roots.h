// Process root frames: in a profile of several processes (`record -p A,B`), each sample's "pid" label
// becomes a frame "PROG (PID)" at the root of its stack, so that a flame graph splits first by process,
// as perf's comm column and py-spy's --subprocesses roots do.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "flamegraph/profile.h"

namespace goperf::flamegraph {

// `names`: the program name of each pid ("" or missing: "process"). Samples without a pid label keep
// their stack as it is.
void add_process_roots(Profile& profile, const std::map<int64_t, std::string>& names);

}  // namespace goperf::flamegraph

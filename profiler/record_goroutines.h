// `goperf record -e goroutines`: every goroutine's state and stack at each tick, from outside the
// target (profiler/goroutine_sampler.h), until Ctrl-C, -d or the target's exit; then the pprof file.
#pragma once

#include <cstdint>
#include <string>

namespace goperf::profiler {

struct RecordOptions;

// Records o.pids[0] (named `prog`) into `output` (already checked writable) until Ctrl-C (SIGINT),
// SIGTERM, -d or the target's exit. Returns the exit code.
int record_goroutines(const RecordOptions& o, const std::string& prog, const std::string& output);

}  // namespace goperf::profiler

// `goperf record -e goroutines`: every goroutine's state and stack at each tick, from outside the
// target (profiler/record/goroutine_sampler.h), until Ctrl-C, -d or the target's exit; then the pprof file.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace goperf::profiler {

struct RecordOptions;
struct RecordOutput;

// Records o.pids[0] (named `prog`) into `output` (already checked writable) until Ctrl-C (SIGINT),
// SIGTERM, -d or the target's exit. Returns the exit code. `stop`: the signal number a caller's own
// handler stores (beside a CPU recording, -e goroutines,EVENT); nullptr: SIGINT/SIGTERM handled here.
int record_goroutines(const RecordOptions& o, const std::string& prog, const RecordOutput& output,
                      const std::atomic<int>* stop = nullptr);

// Where the goroutine profile goes beside a CPU profile written to `cpu_output`: x.pb.gz -> x.goroutines.pb.gz.
std::string goroutines_output(const std::string& cpu_output);

}  // namespace goperf::profiler

// RecordOptions: `goperf record` command line (Boost.Program_options). Parsing errors are thrown as
// boost::program_options::error (main.cpp prints them in one line, exit status 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/commands.h"

namespace goperf::profiler {

struct RecordOptions {
  std::vector<uint32_t> pids;         // -p PID[,PID]
  std::vector<std::string> command;   // -- CMD ARGS
  uint64_t frequency_hz = 99;         // -F (19 with -e goroutines alone)
  double duration_s = 0;              // -d (10s, 1m, 500ms, or seconds), 0 = until Ctrl-C or the target's exit
  std::string event;                  // -e, "" = default (cycles, else cpu-clock); "goroutines" taken out
  bool goroutines = false;            // -e goroutines: goroutine states and stacks at each tick
  std::string backend = "auto";       // --backend auto|bpf|perf
  std::string output;                 // -o, "" = <prog>-<pid>-<YYYYmmdd-HHMMSS>.pb.gz
  uint32_t stack_bytes = 0;           // --stack-bytes, 0 = the backend's default
  bool user_only = false;             // --user-only (or an event's :u): no kernel samples, no kernel frames
  bool quiet = false;                 // -q: errors only (nothing on stderr on success)
  bool verbose = false;               // -v: unwinding statistics at the end
  bool help = false;
};

// Fills `options`; returns false after printing --help.
bool parse_record_options(const Args& args, RecordOptions& options);

}  // namespace goperf::profiler

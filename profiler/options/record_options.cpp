// `goperf record` options. Everything after "--" is the command to run, untouched.
#include "profiler/options/record_options.h"
#include "profiler/options/parse_or_help.h"

#include "profiler/options/duration_text.h"
#include "profiler/options/pid_option.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>

namespace po = boost::program_options;

namespace goperf::profiler {
namespace {

// "-p 1,2 -p 3": every entry a process id. An empty entry ("1,,2", "1,") is refused, not skipped: it is
// most often a variable that expanded to nothing (-p $A,$B), and dropping it would sample fewer processes
// than the user named without saying so.
std::vector<uint32_t> parse_pids(const std::vector<std::string>& values) {
  std::vector<uint32_t> pids;
  for (const auto& v : values) {
    size_t begin = 0;
    for (;;) {
      size_t end = std::min(v.find(',', begin), v.size());
      std::string item = v.substr(begin, end - begin);
      if (item.empty()) throw po::error("-p '" + v + "': an empty entry in the process id list");
      pids.push_back(static_cast<uint32_t>(parse_pid(item)));
      if (end == v.size()) break;
      begin = end + 1;
    }
  }
  return pids;
}

// "goroutines" in -e's comma-separated list sets o.goroutines and leaves the other events in o.event.
void take_goroutines_event(RecordOptions& o) {
  std::stringstream ss(o.event);
  std::string item, rest;
  while (std::getline(ss, item, ',')) {
    if (item == "goroutines") {
      o.goroutines = true;
    } else if (!item.empty()) {
      rest += (rest.empty() ? "" : ",") + item;
    }
  }
  if (o.goroutines) o.event = rest;
}

}  // namespace

bool parse_record_options(const Args& args, RecordOptions& o) {
  Args own = args;
  auto dashdash = std::find(own.begin(), own.end(), "--");
  if (dashdash != own.end()) {
    o.command.assign(dashdash + 1, own.end());
    own.erase(dashdash, own.end());
  }
  std::vector<std::string> pid_values;
  std::string duration_text = "0";
  po::options_description desc(
      "usage: goperf record -p PID[,PID] | -- CMD [ARGS]  [options]\n\n"
      "Samples the CPU use of running Go programs (stripped or not) and writes a gzip pprof profile.\n"
      "Stops on Ctrl-C, after -d, or when the target exits; the profile is written in every case.\n"
      "The format follows -o's extension: .pb.gz (pprof), .svg (flame graph), .folded, .txt (top table); with\n"
      "any but .pb.gz the pprof is written beside it (x.svg -> x.pb.gz), for goperf report and go tool pprof.\n"
      "A program started with -- CMD ends with goperf: SIGTERM when the recording stops or goperf dies.\n\n"
      "options");
  desc.add_options()
      ("help,h", "show this help")
      ("pid,p", po::value<std::vector<std::string>>(&pid_values), "process ids to sample (comma separated)")
      ("frequency,F", po::value<uint64_t>(&o.frequency_hz), "samples per second per thread (default 99; 19 for "
                                                            "-e goroutines)")
      ("duration,d", po::value<std::string>(&duration_text), "how long to record: 10s, 1m, 500ms, or seconds "
                                                             "(default 0: until Ctrl-C)")
      ("event,e", po::value<std::string>(&o.event), "event: cpu-clock, task-clock, cycles, instructions, a libpfm4 "
                                                   "name, or tick: CPU time at the scheduler tick, no interrupt of its "
                                                   "own (plus cpu-clock above the tick's rate) (default: cycles, else "
                                                   "cpu-clock); goroutines: every goroutine's state and stack at each tick")
      ("backend", po::value<std::string>(&o.backend)->default_value("auto"),
       "sampler: auto (bpf where the kernel and permissions allow, else perf), bpf or perf")
      ("output,o", po::value<std::string>(&o.output), "output file (default <prog>-<pid>-<time>.pb.gz)")
      ("stack-bytes", po::value<uint32_t>(&o.stack_bytes)->default_value(0),
       "user stack copied per sample (0: 8192 with perf, the stack up to 32768 with bpf)")
      ("user-only", po::bool_switch(&o.user_only), "the program's own (user) code only: no samples or frames in "
                                                   "the kernel (as an event's :u modifier, -e cpu-clock:u)")
      ("quiet,q", po::bool_switch(&o.quiet), "print errors only")
      ("verbose,v", po::bool_switch(&o.verbose), "print unwinding statistics (stack copy use, caches) at the end");
  po::variables_map vm;
  if (!parse_or_help(own, desc, desc, nullptr, vm)) {
    o.help = true;
    return false;
  }
  o.pids = parse_pids(pid_values);
  take_goroutines_event(o);
  if (!vm.count("frequency")) o.frequency_hz = o.goroutines && o.event.empty() ? 19 : 99;
  if (o.pids.empty() && o.command.empty()) throw po::error("give -p PID or -- CMD ARGS");
  if (!o.pids.empty() && !o.command.empty()) throw po::error("give either -p PID or -- CMD, not both");
  if (o.backend != "perf" && o.backend != "bpf" && o.backend != "auto") {
    throw po::validation_error(po::validation_error::invalid_option_value, "backend", o.backend);
  }
  if (o.goroutines) {
    if (!o.command.empty()) throw po::error("-e goroutines samples a running process: give -p PID");
    if (o.pids.size() > 1) throw po::error("-e goroutines samples one process: give one PID");
    if (o.frequency_hz > 1000) throw po::error("-e goroutines takes at most -F 1000");
  }
  if (o.frequency_hz == 0) throw po::validation_error(po::validation_error::invalid_option_value, "frequency", "0");
  auto duration = parse_duration_seconds(duration_text);
  if (!duration) throw po::error("-d '" + duration_text + "' is no duration: give 500ms, 10s, 1m or a number of seconds");
  o.duration_s = *duration;
  if (o.stack_bytes % 8 != 0 || o.stack_bytes > 60000) {
    throw po::error("--stack-bytes must be a multiple of 8 below 60000");
  }
  return true;
}

}  // namespace goperf::profiler

// Why a recording holds no sample, from what its targets did meanwhile: the program exited at once,
// the target was idle (and which of its child processes used the CPU instead), or its CPU time was not
// visible to the events (the kernel's share with --user-only or kernel.perf_event_paranoid).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace goperf::profiler {

// utime + stime of a process in clock ticks (/proc/PID/stat), 0 when it is gone.
uint64_t process_cpu_ticks(uint32_t pid);

struct NoSampleFacts {
  std::vector<uint32_t> pids;
  std::vector<uint64_t> cpu_before;   // process_cpu_ticks at the start, one per pid
  std::vector<uint64_t> cpu_after;    // and at the end (0: gone)
  std::string prog;
  double seconds = 0;                 // how long the recording ran
  bool target_exited = false;
  bool child = false;                 // -- CMD: the program was started by goperf
  int child_exit_code = -1;           // its exit status, -1 when unknown or killed by a signal
  bool user_only = false;
};

// One sentence: why no sample was taken.
std::string explain_no_samples(const NoSampleFacts& facts);

}  // namespace goperf::profiler

// Where a Go program crashed, for a core's header: the innermost frame of the crashing goroutine that is the
// program's own, past the runtime's panic, throw and signal machinery (the frame a reader of the runtime's
// traceback looks for first).
#pragma once

#include <cstdint>
#include <string>

namespace goperf::profiler {

struct DumpInput;

struct CrashSite {
  std::string function, file;  // empty when the goroutine has no frame outside the runtime
  int line = 0;
  uint64_t pc = 0;
};

// Walks goroutine `index` of input.list (the crashing one) with the dump builder and returns its first
// frame outside package runtime (runtime.*, internal/runtime/*, the runtime's `panic` frame, and functions the
// runtime defines for other packages by go:linkname, such as sync.fatal).
CrashSite find_crash_site(const DumpInput& input, size_t index);

}  // namespace goperf::profiler

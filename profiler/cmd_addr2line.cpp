// goperf addr2line: placeholder until the sub-command lands; it fails loudly rather than pretend.
#include <cstdio>

#include "profiler/commands.h"

namespace goperf::profiler {

int run_addr2line(const Args&) {
  std::fprintf(stderr, "goperf addr2line: not available in this build\n");
  return 1;
}

}  // namespace goperf::profiler

// goperf snapshot: placeholder until the sub-command lands; it fails loudly rather than pretend.
#include <cstdio>

#include "profiler/commands.h"

namespace goperf::profiler {

int run_snapshot(const Args&) {
  std::fprintf(stderr, "goperf snapshot: not available in this build\n");
  return 1;
}

}  // namespace goperf::profiler

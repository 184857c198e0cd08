// goperf record: placeholder until the sub-command lands; it fails loudly rather than pretend.
#include <cstdio>

#include "profiler/commands.h"

namespace goperf::profiler {

int run_record(const Args&) {
  std::fprintf(stderr, "goperf record: not available in this build\n");
  return 1;
}

}  // namespace goperf::profiler

// The crashing goroutine's first frame of its own code (profiler/core_crash_site.h).
#include "profiler/core_crash_site.h"

#include <string_view>

#include "profiler/goroutine_dump.h"

namespace goperf::profiler {
namespace {

// The runtime's own frames: the panic/throw/sigpanic machinery and what it calls (internal/runtime/maps for a
// map write's fatal error). "panic" is gopanic as the runtime prints it.
bool runtime_frame(std::string_view f) {
  return f == "panic" || f.rfind("runtime.", 0) == 0 || f.rfind("internal/runtime/", 0) == 0;
}

}  // namespace

CrashSite find_crash_site(const DumpInput& input, size_t index) {
  CrashSite site;
  auto builder = GoroutineDumpBuilder::create(input);
  if (!builder || index >= (*builder)->size()) return site;
  GoroutineDump g;
  (*builder)->build(index, g);
  for (const auto& f : g.frames) {
    if (runtime_frame(f.function) || !f.is_go) continue;
    site.function = std::string(f.function);
    site.file = std::string(f.file);
    site.line = f.line;
    site.pc = f.pc;
    break;
  }
  return site;
}

}  // namespace goperf::profiler

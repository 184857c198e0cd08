// The crashing goroutine's first frame of its own code (profiler/core/core_crash_site.h).
#include "profiler/core/core_crash_site.h"

#include <string_view>

#include "profiler/dump/goroutine_dump.h"

namespace goperf::profiler {
namespace {

// The runtime's own frames: the panic/throw/sigpanic machinery and what it calls (internal/runtime/maps for a
// map write's fatal error). "panic" is gopanic as the runtime prints it. Functions the runtime defines under
// another package's name by go:linkname (sync.fatal, internal/sync.throw: src/runtime/panic.go) are the
// runtime's too: their file is in package runtime's own directory (GOROOT/src/runtime, or runtime/ when trimmed).
bool runtime_frame(std::string_view f, std::string_view file) {
  if (f == "panic" || f.rfind("runtime.", 0) == 0 || f.rfind("internal/runtime/", 0) == 0) return true;
  size_t slash = file.rfind('/');
  if (slash == std::string_view::npos) return false;
  std::string_view dir = file.substr(0, slash);
  return dir == "runtime" || (dir.size() >= 12 && dir.substr(dir.size() - 12) == "/src/runtime");
}

}  // namespace

CrashSite find_crash_site(const DumpInput& input, size_t index) {
  CrashSite site;
  auto builder = GoroutineDumpBuilder::create(input);
  if (!builder || index >= (*builder)->size()) return site;
  GoroutineDump g;
  (*builder)->build(index, g);
  for (const auto& f : g.frames) {
    if (runtime_frame(f.function, f.file) || !f.is_go) continue;
    site.function = std::string(f.function);
    site.file = std::string(f.file);
    site.line = f.line;
    site.pc = f.pc;
    break;
  }
  return site;
}

}  // namespace goperf::profiler

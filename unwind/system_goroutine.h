// isSystemGoroutine (src/runtime/traceback.go): the goroutines the runtime leaves out of a
// GOTRACEBACK=all dump and of runtime/pprof's goroutine profile (GC workers, the finalizer loop, ...).
#pragma once

#include <cstdint>

namespace goperf::symbolize {
class Pclntab;
}

namespace goperf::unwind {

// link_startpc: g.startpc minus the load bias. runfinq counts as a system goroutine even while it
// runs a finalizer (the runtime tells that from fingStatus, which an outside reader cannot cheaply).
bool is_system_goroutine(const symbolize::Pclntab& tab, uint64_t link_startpc);

}  // namespace goperf::unwind

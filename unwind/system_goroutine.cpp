// is_system_goroutine: mirrors src/runtime/traceback.go isSystemGoroutine.
#include "unwind/system_goroutine.h"

#include "symbolize/pclntab.h"

namespace goperf::unwind {

using symbolize::FuncKind;

bool is_system_goroutine(const symbolize::Pclntab& tab, uint64_t link_startpc) {
  auto f = tab.find_func(link_startpc);
  if (!f) return false;
  switch (f->kind) {
    case FuncKind::kRuntimeMain:
    case FuncKind::kCorostart:
    case FuncKind::kHandleAsyncEvent:
      return false;
    case FuncKind::kRunfinq:
      return true;
    default:
      return f->name.rfind("runtime.", 0) == 0;
  }
}

}  // namespace goperf::unwind

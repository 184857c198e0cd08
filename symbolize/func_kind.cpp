// FuncKind from a function's name: the functions behind src/internal/abi/symtab.go's FuncID list
// (src/runtime/symtab.go before Go 1.21), whose numbers shift between releases while names do not.
#include <array>
#include <utility>

#include "symbolize/pclntab.h"

namespace goperf::symbolize {

FuncKind func_kind_by_name(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, FuncKind>, 23> kNames{{
      {"runtime.abort", FuncKind::kAbort},
      {"runtime.asmcgocall", FuncKind::kAsmcgocall},
      {"runtime.asyncPreempt", FuncKind::kAsyncPreempt},
      {"runtime.cgocallback", FuncKind::kCgocallback},
      {"runtime.corostart", FuncKind::kCorostart},
      {"runtime.debugCallV2", FuncKind::kDebugCallV2},
      {"runtime.gcBgMarkWorker", FuncKind::kGcBgMarkWorker},
      {"runtime.goexit", FuncKind::kGoexit},
      {"runtime.gogo", FuncKind::kGogo},
      {"runtime.gopanic", FuncKind::kGopanic},
      {"runtime.handleAsyncEvent", FuncKind::kHandleAsyncEvent},
      {"runtime.main", FuncKind::kRuntimeMain},
      {"runtime.mcall", FuncKind::kMcall},
      {"runtime.morestack", FuncKind::kMorestack},
      {"runtime.mstart", FuncKind::kMstart},
      {"runtime.panicwrap", FuncKind::kPanicwrap},
      {"runtime.rt0_go", FuncKind::kRt0Go},
      {"runtime.runCleanups", FuncKind::kRunCleanups},
      {"runtime.runFinalizers", FuncKind::kRunfinq},
      {"runtime.runfinq", FuncKind::kRunfinq},
      {"runtime.sigpanic", FuncKind::kSigpanic},
      {"runtime.systemstack", FuncKind::kSystemstack},
      {"runtime.systemstack_switch", FuncKind::kSystemstackSwitch},
  }};
  if (!name.starts_with("runtime.")) return FuncKind::kNormal;
  for (const auto& [n, k] : kNames)
    if (n == name) return k;
  return FuncKind::kNormal;
}

bool calls_vdso_on_system_stack(std::string_view name) {
  // The lengths first: this runs for every function looked up.
  switch (name.size()) {
    case 8: return name == "time.now";
    case 16: return name == "runtime.walltime";  // linux/arm64's (sys_linux_arm64.s); amd64 has time.now
    case 17: return name == "runtime.nanotime1";
    case 19: return name == "runtime.vgetrandom1";
    default: return false;
  }
}

FuncKind func_kind_without_funcid(std::string_view name) {
  if (calls_vdso_on_system_stack(name)) return FuncKind::kVdsoCall;
  // The lengths first, as above.
  switch (name.size()) {
    case 16: return name == "runtime.sigtramp" ? FuncKind::kSigtramp : FuncKind::kNormal;
    case 17: return name == "runtime.sigreturn" ? FuncKind::kSigreturn : FuncKind::kNormal;
    case 18: return name == "runtime.sigtrampgo" ? FuncKind::kSigtrampgo : FuncKind::kNormal;
    case 19: return name == "runtime.cgoSigtramp" ? FuncKind::kSigtramp : FuncKind::kNormal;
    case 28: return name == "runtime.sigreturn__sigaction" ? FuncKind::kSigreturn : FuncKind::kNormal;
    default: return FuncKind::kNormal;
  }
}

}  // namespace goperf::symbolize

// FuncInfo: what a Go function of a pclntab is (entry, name, the kind the runtime's traceback treats
// specially, flags), without the table's internals; FuncKind; InlinedCall.
#pragma once

#include <cstdint>
#include <string_view>

namespace goperf::symbolize {

// Functions the runtime's traceback treats specially. funcID numbers shift between Go versions,
// so goperf maps them by the function's name (runtime.goexit, runtime.mstart, ...).
enum class FuncKind : uint8_t {
  kNormal, kGoexit, kMstart, kRt0Go, kMorestack, kSystemstack, kSystemstackSwitch, kMcall, kSigpanic,
  kAsyncPreempt, kCgocallback, kAsmcgocall, kGogo, kDebugCallV2, kRuntimeMain, kGopanic, kPanicwrap,
  kWrapper, kAbort, kRunfinq, kGcBgMarkWorker, kHandleAsyncEvent, kCorostart,
  kRunCleanups,  // runtime.runCleanups (Go 1.25+), a goroutine bottom like runfinq
  // Assembly that calls the vDSO on g0's stack after its prologue (sys_linux_amd64.s runtime.nanotime1,
  // time_linux_amd64.s time.now, runtime.vgetrandom1): no funcID; sp is not its frame's, BP is.
  kVdsoCall,
  // The signal handler's frames (no funcID either; src/runtime/sys_linux_amd64.s, signal_unix.go):
  kSigtramp,    // runtime.sigtramp, runtime.cgoSigtramp: the handler the kernel enters
  kSigtrampgo,  // runtime.sigtrampgo: the Go handler sigtramp calls
  kSigreturn,   // runtime.sigreturn__sigaction (Go 1.19/1.20: runtime.sigreturn): Go's sa_restorer
};

// The kind of a function with this name (the names of src/internal/abi/symtab.go's funcIDs).
FuncKind func_kind_by_name(std::string_view name);
// Whether a function without a funcID is one of the vDSO callers (FuncKind::kVdsoCall).
bool calls_vdso_on_system_stack(std::string_view name);
// The kind of a function without a funcID: kVdsoCall, one of the signal handler's (kSigtramp, kSigtrampgo,
// kSigreturn), else kNormal.
FuncKind func_kind_without_funcid(std::string_view name);

struct FuncInfo {
  uint32_t index = 0;       // position in the function table
  uint64_t entry = 0;       // link-time address
  uint64_t end = 0;         // entry of the next function
  std::string_view name;
  FuncKind kind = FuncKind::kNormal;
  uint8_t flag = 0;         // Pclntab::kFlagTopFrame | kFlagSpWrite | kFlagAsm
  int32_t args = 0;         // argument size, -0x80000000 when unknown
  int start_line = 0;       // 0 before Go 1.20

  // Written in assembly (funcFlag_ASM): such code keeps no g in R14 (ABI0), unlike ABIInternal Go code.
  bool is_assembly() const { return (flag & 4) != 0; }
};

// One entry of a function's inline tree (FUNCDATA_InlTree): a call inlined into it.
struct InlinedCall {
  std::string_view function;
  uint32_t parent_pc_offset = 0;  // from the physical entry: where the caller made this call
  int start_line = 0;             // 0 before Go 1.20
};

}  // namespace goperf::symbolize

// StackWalker: the Go-aware stack walker shared by snapshot, core and record. It mirrors the unwinder
// of src/runtime/traceback.go (Go 1.21+; gentraceback in 1.19/1.20 follows the same rules):
// pcsp frame sizes for Go code, frame pointers for C code, stack switches from g0 to the goroutine.
#pragma once

#include <cstdint>
#include <span>

#include "unwind/register_set.h"

namespace goperf::unwind {

class Memory;
class AddressSpace;
class PcInfoCache;

// One physical frame, innermost first. Inline expansion is symbolize/'s job.
struct PhysicalFrame {
  uint64_t pc = 0;         // runtime address
  uint64_t sp = 0;         // stack pointer while executing pc (the frame's lowest address)
  uint64_t fp = 0;         // the caller's sp (CFA); 0 when unknown (the last frame, C frames without FP)
  bool exact_pc = false;   // pc is the executing instruction (innermost trap, or the frame interrupted by
                           // sigpanic/asyncPreempt/debugCall): look up pc itself. Else pc is a return
                           // address: look up pc-1, as the runtime does (traceback.go symPC).
  bool is_go = false;      // pc is in a Go function (pclntab); else C code named from ELF symbols
  bool after_switch = false;  // first frame after a switch from the system stack to the goroutine stack
  // Frames were not walked between this one and the one below: the walk went on from the goroutine's
  // saved state past a C frame it could not unwind (WalkOptions::switch_after_unwalkable_c).
  bool after_gap = false;
};

enum class StopReason : uint8_t {
  kTopFrame,       // reached goexit, mstart, rt0_go or another TOPFRAME function: the stack is complete
  kZeroPc,         // a return address of 0 (the end of a C thread's stack, or a goroutine's bottom)
  kFull,           // the output span is full
  kUnknownPc,      // the pc is in no known module or function, and no frame pointer helps
  kNoPcsp,         // a Go function without a pcsp table
  kSpWrite,        // a non-innermost function that writes SP (runtime.gogo, morestack bodies, ...)
  kUnreadable,     // stack memory could not be read
  kBadFrame,       // sp moved down or out of the stack bounds; a broken frame-pointer chain
  kStackSwitch,    // reached systemstack/morestack/mcall/asmcgocall on g0, and no switch target was given
  kMcall,          // reached runtime.mcall on g0 and did not switch: where runtime/pprof's stacks end too
  kNotReturnAddress,  // the next word is no return address (not code; in Go code, not after a call): not a frame
};
const char* to_string(StopReason reason);

struct WalkOptions {
  // The first pc is exact (thread registers, a trap, a core's crashing thread). false when it comes
  // from g.sched or g.syscallpc, which are return addresses.
  bool innermost_exact = true;
  // The goroutine to continue with once the walk on the system stack (g0) reaches the switch point
  // (systemstack, morestack, mcall, asmcgocall) or a C frame it cannot unwind: m.curg's saved state
  // (curg.sched.{pc,sp,bp}, or curg.syscall{pc,sp} for a goroutine in a syscall or cgo call). Its pc is a
  // return address. nullptr: stop with kStackSwitch.
  const RegisterSet* switch_to = nullptr;
  // Bounds of the stack the walk starts on, when known (0 = unknown): sp must stay inside [lo, hi).
  uint64_t stack_lo = 0, stack_hi = 0;
  // Bounds of the goroutine stack entered through switch_to (0 = unknown).
  uint64_t switch_stack_lo = 0, switch_stack_hi = 0;
  // Switch to switch_to only where the runtime's profiler does (traceback.go, unwindJumpStack, and sigprof
  // for a cgo call): at systemstack, morestack and asmcgocall; not at mcall, nor when a C frame cannot be
  // unwound (unless switch_after_unwalkable_c).
  bool switch_only_where_runtime_does = false;
  // ... and, with that, also past a C frame that cannot be unwound (no frame record: C built without frame
  // pointers), leaving a gap (PhysicalFrame::after_gap). For a sample on g0 serving switch_to's goroutine,
  // read at the sample: whatever runs on g0 was called from the goroutine's switch point (asmcgocall,
  // systemstack), so its saved state leads to true callers, and the runtime's profiler shows a cgo call's
  // Go callers without its C frames (proc.go sigprof: curg.syscallpc/syscallsp).
  bool switch_after_unwalkable_c = false;
};

struct WalkResult {
  size_t count = 0;  // frames written to the output span
  StopReason reason = StopReason::kTopFrame;
  bool complete() const {
    return reason == StopReason::kTopFrame || reason == StopReason::kZeroPc || reason == StopReason::kMcall;
  }
};

// Stateless apart from the references it holds; one walker may serve many walks (not concurrently
// through the same CachedMemory or PcInfoCache). walk() does not allocate.
class StackWalker {
 public:
  // cache (optional) remembers per-pc lookups across walks; it must belong to this address space.
  StackWalker(const Memory& memory, const AddressSpace& space, PcInfoCache* cache = nullptr)
      : memory_(memory), space_(space), cache_(cache) {}

  WalkResult walk(const RegisterSet& regs, const WalkOptions& options, std::span<PhysicalFrame> out) const;

 private:
  const Memory& memory_;
  const AddressSpace& space_;
  PcInfoCache* cache_;
};

}  // namespace goperf::unwind

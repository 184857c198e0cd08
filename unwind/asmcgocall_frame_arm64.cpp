// src/runtime/asm_arm64.s asmcgocall, the same in Go 1.19 (/usr/lib/go-1.19), 1.26 and 1.27.3: after the switch
// to g0's stack it takes 16 bytes, "MOVD R4, 0(RSP) // save old g on stack" and "MOVD R4, 8(RSP) // save depth
// in old g stack", the depth being g.stack.hi - R2, R2 the RSP of asmcgocall's own frame on the goroutine stack.
// That frame ($0-20, not a leaf) is 16 bytes the assembler adds (cmd/internal/obj/arm64 obj7.go: LR at 0(RSP),
// the caller's FP at -8), so at hi - depth lies the return address into asmcgocall's caller (runtime.cgocall,
// or the ABIInternal wrapper of asmcgocall) and the caller's sp is 16 bytes up. The C function asmcgocall
// calls (BL (R1)) keeps its frame record at the bottom of its frame (GCC, AArch64 procedure call standard),
// so the pair is above the walk's asmcgocall frame by the C frame's size less the record's 16 bytes.
#include "unwind/asmcgocall_frame.h"

namespace goperf::unwind {

AsmcgocallSaved arm64_asmcgocall_saved() {
  return AsmcgocallSaved{.depth = 8, .g = 0, .scan_above = 256, .return_slots = 1, .caller_sp_above_slot = 16};
}

}  // namespace goperf::unwind

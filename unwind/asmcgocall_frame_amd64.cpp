// src/runtime/asm_amd64.s asmcgocall, after the switch to g0: "save g" at 8(SP), "save depth in old g stack"
// at 0(SP). The depth is taken from the SP asmcgocall was entered with: the return address into its caller
// (runtime.cgocall) is there, or one word up when asmcgocall pushed a frame pointer first (Go 1.26).
#include "unwind/asmcgocall_frame.h"

namespace goperf::unwind {

AsmcgocallSaved amd64_asmcgocall_saved() {
  return AsmcgocallSaved{.depth = 0, .g = 8, .scan_above = 64, .return_slots = 2, .caller_sp_above_slot = 8};
}

}  // namespace goperf::unwind

// src/runtime/asm_amd64.s asmcgocall, after the switch to g0: "save g" at 8(SP), "save depth in old g stack"
// at 0(SP).
#include "unwind/asmcgocall_frame.h"

namespace goperf::unwind {

std::optional<AsmcgocallSaved> asmcgocall_saved(Arch arch) {
  if (arch != Arch::kAmd64) return std::nullopt;
  return AsmcgocallSaved{.depth = 0, .g = 8};
}

}  // namespace goperf::unwind

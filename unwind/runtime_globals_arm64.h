// RuntimeGlobals of an arm64 Go executable, found without symbols: Go's arm64 code reaches a global through
// an ADRP (its 4 KiB page) followed by an ADD of the low 12 bits (its address) or a LDR/STR with them as the
// offset (cmd/internal/obj/arm64: MOVD sym(SB) and MOVD $sym(SB)), decoded with Capstone's AArch64 mode.
#pragma once

#include "symbolize/result.h"
#include "unwind/runtime_globals.h"

namespace goperf::unwind {

Result<RuntimeGlobals> find_runtime_globals_arm64(const symbolize::Module& module);

}  // namespace goperf::unwind

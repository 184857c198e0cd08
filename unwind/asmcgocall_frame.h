// Where runtime.asmcgocall leaves, on the system stack, the goroutine it switched from and that goroutine's
// depth below g.stack.hi (a depth, not an sp: a callback may move the goroutine stack meanwhile), and where,
// at that depth on the goroutine stack, the return address into asmcgocall's caller is. One implementation
// per architecture: asmcgocall_frame_amd64.cpp, asmcgocall_frame_arm64.cpp.
#pragma once

#include <cstdint>
#include <optional>

#include "unwind/register_set.h"

namespace goperf::unwind {

struct AsmcgocallSaved {
  // Byte offsets of the saved words from the slot pair's base (asmcgocall's sp on the system stack).
  uint64_t depth = 0;
  uint64_t g = 0;
  // How far above the walk's asmcgocall frame (the C callee's frame record + 16 on arm64, its CFA on amd64)
  // the pair can lie: the C callee's locals sit between them where its frame record is at its bottom.
  uint64_t scan_above = 0;
  // On the goroutine stack at gsp = hi - depth: the return address into asmcgocall's caller is in the first
  // of `return_slots` slots (from gsp, 8 bytes apart) that holds one, and the caller's sp is that slot
  // + `caller_sp_above_slot`.
  uint64_t return_slots = 1;
  uint64_t caller_sp_above_slot = 8;
};

// nullopt: the continuation after cgo is not taken on this architecture.
std::optional<AsmcgocallSaved> asmcgocall_saved(Arch arch);
AsmcgocallSaved amd64_asmcgocall_saved();
AsmcgocallSaved arm64_asmcgocall_saved();

}  // namespace goperf::unwind

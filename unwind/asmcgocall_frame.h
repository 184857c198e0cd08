// Where runtime.asmcgocall leaves, on the system stack, the goroutine it switched from and that goroutine's
// depth below g.stack.hi (a depth, not an sp: a callback may move the goroutine stack meanwhile). One
// implementation per architecture: asmcgocall_frame_amd64.cpp.
#pragma once

#include <cstdint>
#include <optional>

#include "unwind/register_set.h"

namespace goperf::unwind {

// Byte offsets of the saved words from the slot pair's base.
struct AsmcgocallSaved {
  uint64_t depth = 0;
  uint64_t g = 0;
};

// nullopt: the continuation after cgo is not taken on this architecture yet.
std::optional<AsmcgocallSaved> asmcgocall_saved(Arch arch);

}  // namespace goperf::unwind

// Whether a word read from a stack can be a return address: the rule StackWalker applies to every pc it
// takes from memory. A return address is where a call returns to, so the instruction that ends right
// before it is a call: CALL rel32 or CALL r/m64 (FF /2) on amd64, BL or BLR on arm64. Go code never
// returns anywhere else; the runtime's fake return addresses (goexit+PCQuantum, systemstack_switch, the
// pcs a signal pushes for sigpanic/asyncPreempt) are the walker's own exceptions (stack_walker.cpp).
#pragma once

#include <cstdint>
#include <span>

#include "unwind/register_set.h"

namespace goperf::unwind {

// The longest call instruction that ends at a return address: REX + FF /2 with SIB and disp32.
constexpr uint64_t kMaxCallBytes = 8;

// `code` holds the bytes that end right at the candidate return address (fewer than kMaxCallBytes near
// a function's entry): true when they end with a call instruction.
bool follows_call(Arch arch, std::span<const uint8_t> code);

}  // namespace goperf::unwind

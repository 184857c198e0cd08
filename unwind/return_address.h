// Call instructions read backwards from a return address. Whether a word read from a stack can be a
// return address is the rule StackWalker applies to every pc it takes from memory: the instruction that
// ends right before it is a call (CALL rel32 or CALL r/m64 (FF /2) on amd64, BL or BLR on arm64); Go code
// never returns anywhere else. The runtime's fake return addresses (goexit+PCQuantum, systemstack_switch,
// the pcs a signal pushes for sigpanic/asyncPreempt) are the walker's own exceptions (stack_walker.cpp).
// One implementation per architecture: return_address_amd64.cpp, return_address_arm64.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "unwind/register_set.h"

namespace goperf::unwind {

// The longest call instruction that ends at a return address: REX + FF /2 with SIB and disp32.
constexpr uint64_t kMaxCallBytes = 8;

// `code` holds the bytes that end right at the candidate return address (fewer than kMaxCallBytes near
// a function's entry): true when they end with a call instruction.
bool follows_call(Arch arch, std::span<const uint8_t> code);

// The target of the direct call (amd64 CALL rel32, arm64 BL) that ends at `return_address`, whose bytes
// end `code` (addresses as the code was linked or loaded, consistently); nullopt when the instruction
// before it is no direct call.
std::optional<uint64_t> direct_call_target(Arch arch, std::span<const uint8_t> code, uint64_t return_address);

namespace amd64 {
bool follows_call(std::span<const uint8_t> code);
std::optional<uint64_t> direct_call_target(std::span<const uint8_t> code, uint64_t return_address);
}  // namespace amd64
namespace arm64 {
bool follows_call(std::span<const uint8_t> code);
std::optional<uint64_t> direct_call_target(std::span<const uint8_t> code, uint64_t return_address);
}  // namespace arm64

}  // namespace goperf::unwind

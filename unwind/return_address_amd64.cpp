// amd64 call instructions that end at a return address, read backwards from it (Intel SDM vol. 2, CALL).
// Backwards decoding is ambiguous, so any encoding that fits is accepted: the rule only has to refuse
// words that cannot be return addresses, never a real one.
#include <cstring>

#include "unwind/return_address.h"

namespace goperf::unwind::amd64 {
namespace {

constexpr size_t kCallRel32Bytes = 5;  // E8 + rel32

// Length of FF /2 (CALL r/m64) from its ModRM byte and, when present, its SIB byte.
size_t ff_call_length(uint8_t modrm, uint8_t sib) {
  uint8_t mod = modrm >> 6, rm = modrm & 7;
  if (mod == 3) return 2;
  size_t len = 2 + (rm == 4 ? 1 : 0);
  if (mod == 1) return len + 1;
  if (mod == 2) return len + 4;
  if (rm == 5) return 6;                      // RIP-relative disp32
  if (rm == 4 && (sib & 7) == 5) return 7;    // SIB with no base: disp32
  return len;
}

}  // namespace

bool follows_call(std::span<const uint8_t> code) {
  size_t n = code.size();
  if (n >= kCallRel32Bytes && code[n - kCallRel32Bytes] == 0xe8) return true;  // CALL rel32
  for (size_t len = 2; len <= 7 && len <= n; ++len) {
    size_t at = n - len;
    if (code[at] != 0xff || ((code[at + 1] >> 3) & 7) != 2) continue;
    uint8_t sib = len >= 3 ? code[at + 2] : 0;
    if (ff_call_length(code[at + 1], sib) == len) return true;  // a REX prefix before FF changes nothing
  }
  return false;
}

// CALL rel32: the target is the return address plus the signed 32-bit displacement.
std::optional<uint64_t> direct_call_target(std::span<const uint8_t> code, uint64_t return_address) {
  size_t n = code.size();
  if (n < kCallRel32Bytes || code[n - kCallRel32Bytes] != 0xe8) return std::nullopt;
  int32_t rel;
  std::memcpy(&rel, code.data() + n - 4, 4);
  return return_address + static_cast<int64_t>(rel);
}

}  // namespace goperf::unwind::amd64

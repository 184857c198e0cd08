// Call instructions that end at a return address, read backwards from it (Intel SDM vol. 2, CALL;
// Arm ARM C6.2, BL and BLR). Backwards decoding is ambiguous, so any encoding that fits is accepted:
// the rule only has to refuse words that cannot be return addresses, never a real one.
#include "unwind/return_address.h"

#include <cstring>

namespace goperf::unwind {
namespace {

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

bool amd64_follows_call(std::span<const uint8_t> code) {
  size_t n = code.size();
  if (n >= 5 && code[n - 5] == 0xe8) return true;  // CALL rel32
  for (size_t len = 2; len <= 7 && len <= n; ++len) {
    size_t at = n - len;
    if (code[at] != 0xff || ((code[at + 1] >> 3) & 7) != 2) continue;
    uint8_t sib = len >= 3 ? code[at + 2] : 0;
    if (ff_call_length(code[at + 1], sib) == len) return true;  // a REX prefix before FF changes nothing
  }
  return false;
}

bool arm64_follows_call(std::span<const uint8_t> code) {
  if (code.size() < 4) return false;
  uint32_t insn;
  std::memcpy(&insn, code.data() + code.size() - 4, 4);
  return (insn & 0xfc000000u) == 0x94000000u ||  // BL imm26
         (insn & 0xfffffc1fu) == 0xd63f0000u;    // BLR Xn
}

}  // namespace

bool follows_call(Arch arch, std::span<const uint8_t> code) {
  return arch == Arch::kArm64 ? arm64_follows_call(code) : amd64_follows_call(code);
}

}  // namespace goperf::unwind

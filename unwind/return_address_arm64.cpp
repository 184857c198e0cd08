// arm64 call instructions that end at a return address (Arm ARM C6.2, BL and BLR).
#include <cstring>

#include "unwind/return_address.h"

namespace goperf::unwind::arm64 {
namespace {

uint32_t last_insn(std::span<const uint8_t> code) {
  uint32_t insn;
  std::memcpy(&insn, code.data() + code.size() - 4, 4);
  return insn;
}

bool is_bl(uint32_t insn) { return (insn & 0xfc000000u) == 0x94000000u; }

}  // namespace

bool follows_call(std::span<const uint8_t> code) {
  if (code.size() < 4) return false;
  uint32_t insn = last_insn(code);
  return is_bl(insn) || (insn & 0xfffffc1fu) == 0xd63f0000u;  // BL imm26, BLR Xn
}

// BL imm26: the target is the BL's own address plus imm26 * 4 (sign-extended).
std::optional<uint64_t> direct_call_target(std::span<const uint8_t> code, uint64_t return_address) {
  if (code.size() < 4 || !is_bl(last_insn(code))) return std::nullopt;
  int64_t imm = static_cast<int64_t>(last_insn(code) & 0x03ffffffu);
  if (imm & 0x02000000) imm -= 0x04000000;
  return return_address - 4 + static_cast<uint64_t>(imm * 4);
}

}  // namespace goperf::unwind::arm64

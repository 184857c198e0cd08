// Picks the architecture's call decoding (return_address_amd64.cpp, return_address_arm64.cpp).
#include "unwind/return_address.h"

namespace goperf::unwind {

bool follows_call(Arch arch, std::span<const uint8_t> code) {
  return arch == Arch::kArm64 ? arm64::follows_call(code) : amd64::follows_call(code);
}

std::optional<uint64_t> direct_call_target(Arch arch, std::span<const uint8_t> code, uint64_t return_address) {
  return arch == Arch::kArm64 ? arm64::direct_call_target(code, return_address)
                              : amd64::direct_call_target(code, return_address);
}

}  // namespace goperf::unwind

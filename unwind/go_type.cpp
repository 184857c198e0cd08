// internal/abi/type.go (runtime/type.go in 1.19), amd64: size 0, ptrdata 8, hash 16, tflag 20, align 21,
// fieldAlign 22, kind 23 (low 5 bits), equal 24, gcdata 32, str 40 (nameOff), ptrToThis 44. A name is a flag
// byte, a varint length and the bytes (internal/abi/type.go Name); tflagExtraStar means the stored name has a
// '*' the printed one drops (runtime/type.go rtype.string).
#include "unwind/go_type.h"

#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

constexpr uint32_t kKindOffset = 23, kTflagOffset = 20, kStrOffset = 40;
constexpr uint8_t kKindMask = 31, kTflagExtraStar = 1 << 1;
constexpr uint64_t kMaxName = 4096;

}  // namespace

Result<GoType> read_go_type(const Memory& memory, uint64_t type_addr, uint64_t types_base) {
  auto kind = memory.read_value<uint8_t>(type_addr + kKindOffset);
  auto tflag = memory.read_value<uint8_t>(type_addr + kTflagOffset);
  auto str = memory.read_value<int32_t>(type_addr + kStrOffset);
  if (!kind || !tflag || !str) return make_error(ErrorCode::kUnavailable, "the panic value's type cannot be read");
  GoType t;
  t.kind = static_cast<GoKind>(*kind & kKindMask);
  const uint64_t name = types_base + static_cast<uint64_t>(static_cast<int64_t>(*str));
  uint64_t len = 0;
  int shift = 0, i = 1;
  for (;; i++, shift += 7) {
    auto b = memory.read_value<uint8_t>(name + static_cast<uint64_t>(i));
    if (!b || shift > 28) return make_error(ErrorCode::kUnavailable, "the panic value's type name cannot be read");
    len |= static_cast<uint64_t>(*b & 0x7f) << shift;
    if (!(*b & 0x80)) break;
  }
  if (len == 0 || len > kMaxName) return make_error(ErrorCode::kInvalidArgument, "the panic value's type has no name");
  t.name.resize(len);
  auto st = memory.read(name + static_cast<uint64_t>(i) + 1,
                        std::span<uint8_t>(reinterpret_cast<uint8_t*>(t.name.data()), t.name.size()));
  if (!st) return make_error(ErrorCode::kUnavailable, "the panic value's type name cannot be read");
  if ((*tflag & kTflagExtraStar) && !t.name.empty() && t.name[0] == '*') t.name.erase(0, 1);
  return t;
}

}  // namespace goperf::unwind

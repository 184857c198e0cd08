// GoType: the kind and printed name of a runtime type descriptor (internal/abi.Type, runtime._type in 1.19),
// read from a process or core: what the runtime's printanycustomtype prints of a panic value
// (src/runtime/error.go: toRType(t).string() and t.Kind()).
#pragma once

#include <cstdint>
#include <string>

#include "symbolize/result.h"

namespace goperf::unwind {

class Memory;

// internal/abi Kind values (the same numbers in every release 1.19 - 1.27).
enum class GoKind : uint8_t {
  kInvalid = 0, kBool = 1, kInt = 2, kInt8, kInt16, kInt32, kInt64, kUint = 7, kUint8, kUint16, kUint32, kUint64,
  kUintptr = 12, kFloat32 = 13, kFloat64, kComplex64, kComplex128, kArray = 17, kChan, kFunc, kInterface, kMap,
  kPointer = 22, kSlice = 23, kString = 24, kStruct = 25, kUnsafePointer = 26,
};

struct GoType {
  GoKind kind = GoKind::kInvalid;
  std::string name;  // as the runtime prints it: "string", "main.MyErr", "*errors.errorString"
};

// The type at `type_addr`; `types_base` is its module's moduledata.types (names are nameOffs from it).
Result<GoType> read_go_type(const Memory& memory, uint64_t type_addr, uint64_t types_base);

}  // namespace goperf::unwind

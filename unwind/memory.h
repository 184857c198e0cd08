// Memory: reads bytes of a target's address space: a live process, a core file, or a sampled stack window.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "symbolize/result.h"

namespace goperf::unwind {

class Memory {
 public:
  virtual ~Memory() = default;
  // Reads exactly out.size() bytes at addr. kUnavailable when any byte is not readable.
  virtual Status read(uint64_t addr, std::span<uint8_t> out) const = 0;

  template <typename T>
  Result<T> read_value(uint64_t addr) const {
    T value;
    auto status = read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T)));
    if (!status) return std::move(status).error();
    return value;
  }
  Result<uint64_t> read_u64(uint64_t addr) const { return read_value<uint64_t>(addr); }
};

}  // namespace goperf::unwind

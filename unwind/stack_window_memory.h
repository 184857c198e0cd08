// StackWindowMemory: the memory a sampled stack is unwound through. The sampler copied the top of the
// user stack at the sample ([base, base + size)); reads there are answered from the copy. Other reads
// go to the read-only contents of the mapped ELF files (the walker may read pclntab-adjacent data or
// code), then to an optional fallback (the live process, racy: used only for g/m structures).
#pragma once

#include <cstdint>
#include <span>

#include "unwind/memory.h"

namespace goperf::unwind {

class AddressSpace;

class StackWindowMemory final : public Memory {
 public:
  // space and fallback may be nullptr. The window is reset per sample with set_window().
  StackWindowMemory(const AddressSpace* space, const Memory* fallback) : space_(space), fallback_(fallback) {}

  void set_window(uint64_t base, std::span<const uint8_t> bytes) {
    base_ = base;
    window_ = bytes;
  }
  uint64_t window_base() const { return base_; }
  uint64_t window_end() const { return base_ + window_.size(); }

  Status read(uint64_t addr, std::span<uint8_t> out) const override;

 private:
  const AddressSpace* space_;
  const Memory* fallback_;
  uint64_t base_ = 0;
  std::span<const uint8_t> window_;
};

}  // namespace goperf::unwind

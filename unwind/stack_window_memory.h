// StackWindowMemory: the memory a sampled stack is unwound through. The sampler copied the top of the
// user stack at the sample ([base, base + size)); reads there are answered from the copy. Other reads
// go to the read-only contents of the mapped ELF files (the walker may read pclntab-adjacent data or
// code), the vDSO's code (set_live_code), then to an optional fallback (the live process, racy: used only
// for g/m structures).
#pragma once

#include <array>
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
    block_size_ = 0;
    tail_used_ = false;
    base2_ = 0;
    window2_ = {};
  }
  // A second copy at base (another stack the sample's walk crosses to), answered after the first.
  void set_second_window(uint64_t base, std::span<const uint8_t> bytes) {
    base2_ = base;
    window2_ = bytes;
  }
  // Reads above the copy, up to base + max_bytes, go to `live` (the running process) in blocks. The
  // sampler copies only the top of the stack; the frames above it are the outermost callers of the
  // sample, which stay in place while the goroutine has not returned to them (the long-lived loops and
  // handlers at the bottom of a deep stack). Racy, hence counted: tail_used() after a walk.
  void set_live_tail(const Memory* live, uint64_t max_bytes) {
    tail_ = live;
    tail_max_ = max_bytes;
  }
  bool tail_used() const { return tail_used_; }
  // Reads of code in an executable mapping that is no file (the vDSO: one read-only image the kernel maps for
  // the process's life, so not racy) go to `live`: the walker decodes instructions there (the signal-return
  // trampoline, frame_rules_arm64.h).
  void set_live_code(const Memory* live) { code_ = live; }
  uint64_t window_base() const { return base_; }
  uint64_t window_end() const { return base_ + window_.size(); }

  Status read(uint64_t addr, std::span<uint8_t> out) const override;

 private:
  const AddressSpace* space_;
  bool read_tail(uint64_t addr, std::span<uint8_t> out) const;

  static constexpr size_t kBlock = 8192;
  const Memory* fallback_;
  uint64_t base_ = 0;
  std::span<const uint8_t> window_;
  uint64_t base2_ = 0;
  std::span<const uint8_t> window2_;
  const Memory* tail_ = nullptr;
  const Memory* code_ = nullptr;
  uint64_t tail_max_ = 0;
  mutable std::array<uint8_t, kBlock> block_{};  // the last block read from the tail
  mutable uint64_t block_addr_ = 0;
  mutable size_t block_size_ = 0;
  mutable bool tail_used_ = false;
};

}  // namespace goperf::unwind

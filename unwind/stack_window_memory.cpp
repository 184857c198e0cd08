// Reads from a sampled stack window, then from the files mapped read-only, then from a fallback.
#include "unwind/stack_window_memory.h"

#include <cstring>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"

namespace goperf::unwind {

// Whether [addr, addr + out.size()) lies in the copy of `bytes` taken at `base`; copies it if so.
static bool copy_from(uint64_t base, std::span<const uint8_t> bytes, uint64_t addr, std::span<uint8_t> out) {
  if (addr < base || addr - base > bytes.size() || out.size() > bytes.size() - (addr - base)) return false;
  std::memcpy(out.data(), bytes.data() + (addr - base), out.size());
  return true;
}

bool StackWindowMemory::read_tail(uint64_t addr, std::span<uint8_t> out) const {
  if (tail_ == nullptr || addr < base_ || addr + out.size() <= window_end() || addr - base_ + out.size() > tail_max_) {
    return false;
  }
  if (block_size_ == 0 || addr < block_addr_ || addr + out.size() > block_addr_ + block_size_) {
    // One read for many frames: the walk goes up the stack word by word.
    uint64_t start = addr & ~uint64_t{4095};
    if (tail_->read(start, std::span<uint8_t>(block_.data(), kBlock))) {
      block_addr_ = start;
      block_size_ = kBlock;
    } else if (out.size() <= kBlock && tail_->read(addr, std::span<uint8_t>(block_.data(), out.size()))) {
      block_addr_ = addr;  // the block crosses the end of the mapping: just what was asked
      block_size_ = out.size();
    } else {
      block_size_ = 0;
      return false;
    }
  }
  if (addr < block_addr_ || addr + out.size() > block_addr_ + block_size_) return false;
  std::memcpy(out.data(), block_.data() + (addr - block_addr_), out.size());
  tail_used_ = true;
  return true;
}

Status StackWindowMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  // The walker's reads are words: a fixed-size copy, not a call to memcpy.
  if (out.size() == 8 && addr >= base_ && addr - base_ < window_.size() && window_.size() - (addr - base_) >= 8) {
    std::memcpy(out.data(), window_.data() + (addr - base_), 8);
    return {};
  }
  if (copy_from(base_, window_, addr, out) || copy_from(base2_, window2_, addr, out)) return {};
  if (read_tail(addr, out)) return {};
  // The stack is private, writable memory: a read there the window cannot answer must not be served
  // from a file (it would be stale); files hold text and read-only data only.
  if (space_ != nullptr) {
    const Mapping* m = space_->mappings().find(addr);
    if (m != nullptr && !m->writable && m->file_backed()) {
      if (auto ref = space_->find(addr); ref && ref->module != nullptr) {
        auto bytes = ref->module->elf().read(ref->link_pc, out.size());
        if (bytes) {
          std::memcpy(out.data(), bytes->data(), out.size());
          return {};
        }
      }
    }
    if (m != nullptr && code_ != nullptr && m->executable && !m->writable && !m->file_backed() &&
        addr + out.size() <= m->end) {
      return code_->read(addr, out);
    }
  }
  if (fallback_ != nullptr) return fallback_->read(addr, out);
  return make_error(ErrorCode::kUnavailable, "address outside the sampled stack window");
}

}  // namespace goperf::unwind

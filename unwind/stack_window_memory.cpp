// Reads from a sampled stack window, then from the files mapped read-only, then from a fallback.
#include "unwind/stack_window_memory.h"

#include <cstring>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"

namespace goperf::unwind {

Status StackWindowMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  if (addr >= base_ && addr - base_ <= window_.size() && out.size() <= window_.size() - (addr - base_)) {
    std::memcpy(out.data(), window_.data() + (addr - base_), out.size());
    return {};
  }
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
  }
  if (fallback_ != nullptr) return fallback_->read(addr, out);
  return make_error(ErrorCode::kUnavailable, "address outside the sampled stack window");
}

}  // namespace goperf::unwind

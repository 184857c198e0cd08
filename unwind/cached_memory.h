// CachedMemory: a Memory decorator that keeps copies of what it read (pages and whole ranges), so that
// a walk reads each page once, and so that a snapshot can be unwound after the target was resumed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "unwind/memory.h"

namespace goperf::unwind {

class CachedMemory final : public Memory {
 public:
  static constexpr uint64_t kPageSize = 4096;

  // backing may be nullptr: then only the ranges added with add_range() are readable.
  explicit CachedMemory(const Memory* backing);

  // Reads from the copied ranges first, then the page cache, then the backing Memory (caching whole pages).
  Status read(uint64_t addr, std::span<uint8_t> out) const override;

  // Stores a copy of [addr, addr + bytes.size()) (e.g. a goroutine stack copied while the target was stopped).
  // Overlapping ranges are allowed; the latest wins.
  void add_range(uint64_t addr, std::vector<uint8_t> bytes);
  // The same over bytes owned by `owner` (one arena for many stacks: no allocation while the target
  // is stopped). The bytes must stay unchanged while this object uses them.
  void add_range(uint64_t addr, std::span<const uint8_t> bytes, std::shared_ptr<const void> owner);
  // Stops reading from the backing Memory: from now on only the copies answer (the target was resumed).
  void detach_backing() { backing_ = nullptr; }
  void clear_pages() { pages_.clear(); }
  size_t cached_bytes() const;

 private:
  struct Piece {
    uint64_t addr = 0;
    const uint8_t* data = nullptr;
    size_t size = 0;
    uint64_t seq = 0;  // order of addition: the latest wins where pieces overlap
  };
  // Sorts the pieces added since the last read into ranges_ (many stacks are added in one go, then read).
  void settle() const;

  const Memory* backing_;
  mutable std::vector<Piece> ranges_;   // sorted by addr, non-overlapping (once settled)
  mutable size_t settled_ = 0;          // ranges_[0, settled_) is sorted; the rest awaits settle()
  mutable size_t last_ = 0;             // the piece the last read was served from
  uint64_t seq_ = 0;
  std::vector<std::shared_ptr<const void>> owners_;
  mutable std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;  // page address -> page (nullptr: unreadable)
};

}  // namespace goperf::unwind

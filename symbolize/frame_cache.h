// FrameCache: a fixed-size, lock-free cache of pc -> inline-expanded Go frames. Profiles hit the same
// few thousand pcs over and over; decoding pc-value tables costs hundreds of ns, a hit costs tens.
// Like the runtime's pcvalueCache (src/runtime/symtab.go), but shared by threads: each slot is a
// seqlock over atomic words, so readers never block and a torn read is simply a miss.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "symbolize/frame.h"

namespace goperf::symbolize {

class FrameCache {
 public:
  static constexpr size_t kMaxFrames = 4;  // deeper inline chains are not cached

  // `slots` is rounded down to a power of two (at least 2: slots go in pairs); `base`/`size`: the mapped file all strings point into.
  FrameCache(size_t slots, const uint8_t* base, size_t size);

  // Appends the cached frames of `key` with Frame.pc = pc; false on a miss.
  bool lookup(uint64_t key, uint64_t pc, std::vector<Frame>& out) const;
  // Caches frames (all is_go, sharing one entry); ignored if they do not fit a slot.
  void insert(uint64_t key, std::span<const Frame> frames);

  size_t memory_bytes() const { return nwords_ * sizeof(std::atomic<uint64_t>); }

 private:
  static constexpr size_t kWords = 4 + 3 * kMaxFrames;  // seq, key, entry, count, 3 words per frame
  std::atomic<uint64_t>* slot(uint64_t key) const;  // the first slot of the key's pair
  bool read(std::atomic<uint64_t>* w, uint64_t key, uint64_t pc, std::vector<Frame>& out) const;
  bool pack(std::string_view s, uint64_t& out) const;  // offset << 16 | length, into the file

  struct AlignedDelete {
    void operator()(std::atomic<uint64_t>* p) const { ::operator delete[](p, std::align_val_t(128)); }
  };
  std::unique_ptr<std::atomic<uint64_t>[], AlignedDelete> words_;  // slots on cache-line boundaries
  size_t nwords_ = 0;
  unsigned shift_ = 64;
  const uint8_t* base_;
  size_t size_;
};

}  // namespace goperf::symbolize

// FrameCache: seqlock slots of atomic words (readers copy, then check the sequence did not move).
#include "symbolize/frame_cache.h"

#include <bit>
#include <new>

namespace goperf::symbolize {

namespace {
constexpr uint64_t kEmpty = ~uint64_t(0);
}

FrameCache::FrameCache(size_t slots, const uint8_t* base, size_t size) : base_(base), size_(size) {
  if (slots < 2) slots = 2;
  slots = std::bit_floor(slots);
  shift_ = 64 - std::countr_zero(slots);
  nwords_ = slots * kWords;
  auto* mem = static_cast<std::atomic<uint64_t>*>(
      ::operator new[](nwords_ * sizeof(std::atomic<uint64_t>), std::align_val_t(128)));
  for (size_t i = 0; i < nwords_; ++i) new (&mem[i]) std::atomic<uint64_t>(0);
  words_.reset(mem);
  for (size_t i = 0; i < slots; ++i) words_[i * kWords + 1].store(kEmpty, std::memory_order_relaxed);
}

std::atomic<uint64_t>* FrameCache::slot(uint64_t key) const {
  uint64_t h = ((key * 0x9E3779B97F4A7C15ull) >> shift_) & ~uint64_t(1);
  return words_.get() + h * kWords;
}

bool FrameCache::pack(std::string_view s, uint64_t& out) const {
  if (s.empty()) {
    out = 0;
    return true;
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data());
  if (p < base_ || p + s.size() > base_ + size_ || s.size() > 0xffff) return false;
  uint64_t off = uint64_t(p - base_);
  if (off >= (uint64_t(1) << 46)) return false;  // leaves a bit for the inlined flag
  out = (off << 16) | s.size();
  return true;
}

bool FrameCache::lookup(uint64_t key, uint64_t pc, std::vector<Frame>& out) const {
  // Two-way: a key lives in either slot of its pair.
  std::atomic<uint64_t>* pair = slot(key);
  return read(pair, key, pc, out) || read(pair + kWords, key, pc, out);
}

bool FrameCache::read(std::atomic<uint64_t>* w, uint64_t key, uint64_t pc, std::vector<Frame>& out) const {
  uint64_t seq = w[0].load(std::memory_order_acquire);
  if (seq & 1) return false;
  if (w[1].load(std::memory_order_relaxed) != key) return false;
  uint64_t copy[kWords];
  for (size_t i = 2; i < kWords; ++i) copy[i] = w[i].load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (w[0].load(std::memory_order_relaxed) != seq || w[1].load(std::memory_order_relaxed) != key) return false;
  size_t n = copy[3];
  if (n == 0 || n > kMaxFrames) return false;
  auto unpack = [this](uint64_t v) {
    return v == 0 ? std::string_view()
                  : std::string_view(reinterpret_cast<const char*>(base_ + (v >> 16)), v & 0xffff);
  };
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* f = copy + 4 + 3 * i;
    Frame fr;
    fr.pc = pc;
    fr.entry = copy[2];
    fr.function = unpack(f[0] >> 1);
    fr.inlined = f[0] & 1;
    fr.file = unpack(f[1]);
    fr.line = int32_t(uint32_t(f[2]));
    fr.start_line = int32_t(uint32_t(f[2] >> 32));
    fr.is_go = true;
    out.push_back(fr);
  }
  return true;
}

void FrameCache::insert(uint64_t key, std::span<const Frame> frames) {
  if (frames.empty() || frames.size() > kMaxFrames || key == kEmpty) return;
  uint64_t packed[kWords] = {};
  packed[2] = frames[0].entry;
  packed[3] = frames.size();
  for (size_t i = 0; i < frames.size(); ++i) {
    uint64_t fn, file;
    if (!pack(frames[i].function, fn) || !pack(frames[i].file, file) || frames[i].entry != packed[2]) return;
    uint64_t* f = packed + 4 + 3 * i;
    f[0] = (fn << 1) | (frames[i].inlined ? 1 : 0);
    f[1] = file;
    f[2] = uint64_t(uint32_t(frames[i].line)) | (uint64_t(uint32_t(frames[i].start_line)) << 32);
  }
  // The pair's empty slot if any, else the one the key's hash picks (a cheap stand-in for LRU).
  std::atomic<uint64_t>* w = slot(key);
  if (w[1].load(std::memory_order_relaxed) != kEmpty &&
      (w[kWords + 1].load(std::memory_order_relaxed) == kEmpty || ((key * 0xC2B2AE3D27D4EB4Full) >> 63)))
    w += kWords;
  uint64_t seq = w[0].load(std::memory_order_relaxed);
  // One writer at a time per slot; a writer that loses the race just does not cache.
  if ((seq & 1) || !w[0].compare_exchange_strong(seq, seq + 1, std::memory_order_acq_rel)) return;
  std::atomic_thread_fence(std::memory_order_release);
  w[1].store(key, std::memory_order_relaxed);
  for (size_t i = 2; i < kWords; ++i) w[i].store(packed[i], std::memory_order_relaxed);
  w[0].store(seq + 2, std::memory_order_release);
}

}  // namespace goperf::symbolize

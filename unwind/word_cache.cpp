// Batched read-ahead of words (see the header).
#include "unwind/word_cache.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "unwind/process_memory.h"

namespace goperf::unwind {

namespace {

// Neighbouring words are neighbouring keys: mixed (murmur3's finalizer) so that they do not cluster.
size_t slot_of(uint64_t addr, size_t mask) {
  addr ^= addr >> 33;
  addr *= 0xff51afd7ed558ccdull;
  addr ^= addr >> 33;
  return static_cast<size_t>(addr) & mask;
}

}  // namespace

WordCache::WordCache(const Memory* backing, const ProcessMemory* batch) : backing_(backing), batch_(batch) {}

const uint64_t* WordCache::find(uint64_t addr) const {
  if (slots_.empty() || addr == 0) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot_of(addr, mask);; i = (i + 1) & mask) {
    if (slots_[i].key == addr) return &slots_[i].value;
    if (slots_[i].key == 0) return nullptr;
  }
}

void WordCache::reserve(size_t words) {
  if (words * 3 <= slots_.size() * 2) return;  // kept at most two thirds full
  size_t size = 1024;
  while (size * 2 < words * 3) size *= 2;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(size, Slot{});
  used_ = 0;
  for (const Slot& s : old)
    if (s.key != 0) insert(s.key, s.value);
}

void WordCache::insert(uint64_t addr, uint64_t value) {
  reserve(used_ + 1);
  const size_t mask = slots_.size() - 1;
  size_t i = slot_of(addr, mask);
  while (slots_[i].key != 0 && slots_[i].key != addr) i = (i + 1) & mask;
  if (slots_[i].key == 0) ++used_;
  slots_[i] = {addr, value};
}

void WordCache::prefetch(std::span<const uint64_t> addrs) {
  std::vector<uint64_t> todo;
  todo.reserve(addrs.size());
  for (uint64_t a : addrs)
    if (a != 0 && find(a) == nullptr) todo.push_back(a);
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  reserve(used_ + todo.size());
  if (batch_ == nullptr) {
    for (uint64_t a : todo)
      if (auto v = backing_->read_u64(a)) insert(a, *v);
    return;
  }
  std::vector<uint64_t> values(todo.size());
  std::unique_ptr<bool[]> ok(new bool[todo.size()]);
  read_words(*batch_, todo, values, std::span<bool>(ok.get(), todo.size()));
  for (size_t i = 0; i < todo.size(); ++i)
    if (ok[i]) insert(todo[i], values[i]);
}

void read_words(const ProcessMemory& memory, std::span<const uint64_t> addrs, std::span<uint64_t> out,
                std::span<bool> ok) {
  // The kernel pins each page of each range: a range per word would pin a page per word.
  struct Range {
    uint64_t lo, hi;
    size_t first, last;  // addrs[first, last)
  };
  std::vector<Range> ranges;
  for (size_t i = 0; i < addrs.size();) {
    size_t j = i + 1;
    while (j < addrs.size() && (addrs[j] >> 12) == (addrs[i] >> 12) && addrs[j] >= addrs[j - 1]) ++j;
    ranges.push_back({addrs[i], addrs[j - 1] + 8, i, j});
    i = j;
  }
  constexpr size_t kBatch = 1024;  // IOV_MAX
  std::vector<uint8_t> scratch;
  std::vector<iovec> remote, local;
  bool done[kBatch];
  for (size_t b = 0; b < ranges.size(); b += kBatch) {
    const size_t n = std::min(kBatch, ranges.size() - b);
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i) bytes += ranges[b + i].hi - ranges[b + i].lo;
    scratch.resize(bytes);
    remote.resize(n);
    local.resize(n);
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
      const Range& r = ranges[b + i];
      remote[i] = {reinterpret_cast<void*>(r.lo), r.hi - r.lo};
      local[i] = {scratch.data() + at, r.hi - r.lo};
      at += r.hi - r.lo;
      done[i] = false;
    }
    memory.read_many(remote, local, std::span<bool>(done, n));
    for (size_t i = 0; i < n; ++i) {
      const Range& r = ranges[b + i];
      const uint8_t* base = static_cast<const uint8_t*>(local[i].iov_base);
      for (size_t k = r.first; k < r.last; ++k) {
        ok[k] = done[i];
        if (done[i]) std::memcpy(&out[k], base + (addrs[k] - r.lo), 8);
      }
    }
  }
}

Status WordCache::read(uint64_t addr, std::span<uint8_t> out) const {
  if (out.size() <= 8) {
    if (const uint64_t* w = find(addr)) {
      std::memcpy(out.data(), w, out.size());
      return {};
    }
  }
  return backing_->read(addr, out);
}

}  // namespace goperf::unwind

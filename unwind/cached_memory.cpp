// CachedMemory: copies first, then whole pages read once from the backing Memory.
#include "unwind/cached_memory.h"

#include <algorithm>
#include <cstring>

namespace goperf::unwind {

CachedMemory::CachedMemory(const Memory* backing) : backing_(backing) {}

void CachedMemory::add_range(uint64_t addr, std::vector<uint8_t> bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  std::span<const uint8_t> view(owned->data(), owned->size());
  add_range(addr, view, std::move(owned));
}

void CachedMemory::add_range(uint64_t addr, std::span<const uint8_t> bytes, std::shared_ptr<const void> owner) {
  if (bytes.empty()) return;
  const uint64_t end = addr + bytes.size();
  // Trim the ranges the new one overlaps, so that a lookup finds at most one candidate.
  auto it = ranges_.lower_bound(addr);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    uint64_t pend = prev->first + prev->second.size;
    if (pend > addr) {
      if (pend > end) {  // the old range encloses the new one: keep its tail
        Piece tail = prev->second;
        tail.data += end - prev->first;
        tail.size = pend - end;
        ranges_.emplace(end, std::move(tail));
      }
      prev->second.size = addr - prev->first;
    }
  }
  it = ranges_.lower_bound(addr);
  while (it != ranges_.end() && it->first < end) {
    uint64_t iend = it->first + it->second.size;
    if (iend > end) {
      Piece tail = it->second;
      tail.data += end - it->first;
      tail.size = iend - end;
      it = ranges_.erase(it);
      ranges_.emplace(end, std::move(tail));
      break;
    }
    it = ranges_.erase(it);
  }
  ranges_[addr] = Piece{std::move(owner), bytes.data(), bytes.size()};
}

size_t CachedMemory::cached_bytes() const {
  size_t n = 0;
  for (const auto& [a, b] : ranges_) n += b.size;
  for (const auto& [a, p] : pages_) n += p ? kPageSize : 0;
  return n;
}

Status CachedMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  if (out.empty()) return {};
  // Whole request inside one copied range: the common case for stack reads.
  auto it = ranges_.upper_bound(addr);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (addr - prev->first + out.size() <= prev->second.size) {
      std::memcpy(out.data(), prev->second.data + (addr - prev->first), out.size());
      return {};
    }
  }
  size_t done = 0;
  while (done < out.size()) {
    uint64_t a = addr + done;
    uint64_t page = a & ~(kPageSize - 1);
    auto pit = pages_.find(page);
    if (pit == pages_.end()) {
      if (!backing_) return make_error(ErrorCode::kUnavailable, "memory not copied");
      auto buf = std::make_unique<uint8_t[]>(kPageSize);
      if (!backing_->read(page, std::span<uint8_t>(buf.get(), kPageSize))) buf.reset();
      pit = pages_.emplace(page, std::move(buf)).first;
    }
    size_t n = std::min<uint64_t>(out.size() - done, page + kPageSize - a);
    if (!pit->second) {
      if (!backing_) return make_error(ErrorCode::kUnavailable, "memory not copied");
      // The page as a whole is not readable; the bytes asked for may still be (a mapping edge).
      auto st = backing_->read(a, out.subspan(done, n));
      if (!st) return st;
    } else {
      std::memcpy(out.data() + done, pit->second.get() + (a - page), n);
    }
    done += n;
  }
  return {};
}

}  // namespace goperf::unwind

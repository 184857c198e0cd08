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
  if (owners_.empty() || owners_.back() != owner) owners_.push_back(std::move(owner));
  ranges_.push_back(Piece{addr, bytes.data(), bytes.size(), seq_++});
}

void CachedMemory::settle() const {
  if (settled_ == ranges_.size()) return;
  auto by_addr = [](const Piece& a, const Piece& b) { return a.addr < b.addr || (a.addr == b.addr && a.seq < b.seq); };
  std::sort(ranges_.begin() + static_cast<std::ptrdiff_t>(settled_), ranges_.end(), by_addr);
  std::inplace_merge(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(settled_), ranges_.end(), by_addr);
  settled_ = ranges_.size();
  last_ = 0;
  bool overlap = false;
  for (size_t i = 1; i < ranges_.size() && !overlap; ++i)
    overlap = ranges_[i - 1].addr + ranges_[i - 1].size > ranges_[i].addr;
  if (!overlap) return;
  // Rare: pieces overlap. Lay them down in the order they were added, each trimming what it covers.
  std::vector<Piece> order = ranges_;
  std::sort(order.begin(), order.end(), [](const Piece& a, const Piece& b) { return a.seq < b.seq; });
  std::vector<Piece> out;
  for (const Piece& p : order) {
    const uint64_t end = p.addr + p.size;
    std::vector<Piece> next;
    next.reserve(out.size() + 2);
    bool placed = false;
    for (const Piece& q : out) {
      const uint64_t qend = q.addr + q.size;
      if (qend <= p.addr || q.addr >= end) {  // disjoint
        if (!placed && q.addr >= end) {
          next.push_back(p);
          placed = true;
        }
        next.push_back(q);
        continue;
      }
      if (q.addr < p.addr) next.push_back(Piece{q.addr, q.data, p.addr - q.addr, q.seq});  // head of q
      if (!placed) {
        next.push_back(p);
        placed = true;
      }
      if (qend > end) next.push_back(Piece{end, q.data + (end - q.addr), qend - end, q.seq});  // tail of q
    }
    if (!placed) next.push_back(p);
    out = std::move(next);
  }
  ranges_ = std::move(out);
  settled_ = ranges_.size();
}

size_t CachedMemory::cached_bytes() const {
  settle();
  size_t n = 0;
  for (const auto& r : ranges_) n += r.size;
  for (const auto& [a, p] : pages_) n += p ? kPageSize : 0;
  return n;
}

Status CachedMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  if (out.empty()) return {};
  // Whole request inside one copied range: the common case for stack reads, mostly from the stack
  // the previous read was from.
  settle();
  if (!ranges_.empty()) {
    const Piece* p = &ranges_[last_];
    if (addr < p->addr || addr - p->addr >= p->size) {
      auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                                 [](uint64_t a, const Piece& r) { return a < r.addr; });
      if (it != ranges_.begin()) {
        last_ = static_cast<size_t>(it - ranges_.begin()) - 1;
        p = &ranges_[last_];
      }
    }
    if (addr >= p->addr && addr - p->addr + out.size() <= p->size) {
      std::memcpy(out.data(), p->data + (addr - p->addr), out.size());
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

// PcOrder: the positions of a batch of pcs in address order, for SortedSymbolizer. A stable radix sort
// over only the bits the batch's pcs span (a Go binary's text is tens of MB: two or three passes) is
// several times faster than a comparison sort of (pc, position) pairs on a million pcs.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace goperf::symbolize {

class PcOrder {
 public:
  // Sorts `pcs` (buffers reused). Equal pcs keep their input order.
  void sort(std::span<const uint64_t> pcs);

  size_t size() const { return wide_ ? pairs_.size() : keys_.size(); }
  // The k-th pc in address order and its position in the input.
  uint64_t pc(size_t k) const { return wide_ ? pairs_[k].first : base_ + (keys_[k] >> 32); }
  uint32_t position(size_t k) const { return wide_ ? pairs_[k].second : uint32_t(keys_[k]); }

 private:
  uint64_t base_ = 0;             // the lowest pc
  std::vector<uint64_t> keys_;    // (pc - base) << 32 | position
  std::vector<uint64_t> scratch_;
  std::vector<uint32_t> count_;
  // Batches of 2^32 pcs or more, or spanning 2^32 bytes or more, do not pack: sorted by comparison.
  bool wide_ = false;
  std::vector<std::pair<uint64_t, uint32_t>> pairs_;
};

}  // namespace goperf::symbolize

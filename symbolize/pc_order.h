// PcOrder: the positions of a batch of pcs in address order, for SortedSymbolizer. A stable radix sort
// over only the bits the batch's pcs span (a Go binary's text is tens of MB: three digits) is several
// times faster than a comparison sort of (pc, position) pairs on a million pcs. The most significant
// digit goes first and cuts the batch into parts of whole buckets, which several threads can then
// sort (and go on to symbolize) at once.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace goperf::symbolize {

class PcOrder {
 public:
  // Sorts `pcs` (buffers reused). Equal pcs keep their input order.
  void sort(std::span<const uint64_t> pcs) {
    partition(pcs, 1);
    sort_part(0);
  }

  // sort() in steps: partition() orders the pcs by their most significant digit and cuts them into
  // `parts` stretches of about equal size; each sort_part(p) (on any thread, one per part) then sorts
  // stretch p, the positions [part_begin(p), part_end(p)) of the address order.
  void partition(std::span<const uint64_t> pcs, unsigned parts);
  void sort_part(unsigned part);
  size_t part_begin(unsigned part) const { return buckets_[part_buckets_[part]]; }
  size_t part_end(unsigned part) const { return buckets_[part_buckets_[part + 1]]; }

  size_t size() const { return wide_ ? pairs_.size() : keys_.size(); }
  // The k-th pc in address order and its position in the input.
  uint64_t pc(size_t k) const { return wide_ ? pairs_[k].first : base_ + (keys_[k] >> 32); }
  uint32_t position(size_t k) const { return wide_ ? pairs_[k].second : uint32_t(keys_[k]); }

 private:
  static constexpr int kDigit = 8;
  uint64_t base_ = 0;             // the lowest pc
  std::vector<uint64_t> keys_;    // (pc - base) << 32 | position
  std::vector<uint64_t> scratch_;
  int top_shift_ = 0;              // the most significant digit is bits [top_shift_, top_shift_ + kDigit) of pc - base
  // Where each most significant digit's bucket starts, and the end (one bucket of all pcs when wide).
  std::vector<size_t> buckets_;
  std::vector<unsigned> part_buckets_;  // the first bucket of each part, and the end
  // Batches of 2^32 pcs or more, or spanning 2^32 bytes or more, do not pack: sorted by comparison.
  bool wide_ = false;
  std::vector<std::pair<uint64_t, uint32_t>> pairs_;
};

}  // namespace goperf::symbolize

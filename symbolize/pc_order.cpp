// PcOrder: one most-significant-digit pass into 256 buckets, then least-significant-digit passes of up
// to 8 bits within each bucket. Buckets of a few thousand keys stay in cache; a scatter of a million
// keys over thousands of destinations at once would miss the TLB on every key.
#include "symbolize/pc_order.h"

#include <algorithm>
#include <bit>

namespace goperf::symbolize {

void PcOrder::partition(std::span<const uint64_t> pcs, unsigned parts) {
  keys_.clear();
  pairs_.clear();
  wide_ = false;
  parts = std::max(parts, 1u);
  part_buckets_.assign(parts + 1, 0);
  buckets_.assign(1, 0);
  if (pcs.empty()) return;
  auto [lo, hi] = std::minmax_element(pcs.begin(), pcs.end());
  base_ = *lo;
  uint64_t span = *hi - *lo;
  if (span >> 32 || pcs.size() >> 32) {  // one part, sorted here: sort_part has nothing left to do
    wide_ = true;
    pairs_.resize(pcs.size());
    for (size_t i = 0; i < pcs.size(); ++i) pairs_[i] = {pcs[i], uint32_t(i)};
    std::sort(pairs_.begin(), pairs_.end());
    buckets_.push_back(pcs.size());
    std::fill(part_buckets_.begin() + 1, part_buckets_.end(), 1u);
    return;
  }
  keys_.resize(pcs.size());
  scratch_.resize(pcs.size());
  top_shift_ = std::max(0, int(std::bit_width(span)) - kDigit);
  std::vector<uint32_t> count(size_t(1) << kDigit);
  for (size_t i = 0; i < pcs.size(); ++i) ++count[(pcs[i] - base_) >> top_shift_];
  buckets_.assign(count.size() + 1, 0);
  for (size_t d = 0; d < count.size(); ++d) buckets_[d + 1] = buckets_[d] + count[d];
  std::copy(buckets_.begin(), buckets_.end() - 1, count.begin());
  for (size_t i = 0; i < pcs.size(); ++i) {
    uint64_t offset = pcs[i] - base_;
    scratch_[count[offset >> top_shift_]++] = offset << 32 | i;
  }
  // Parts end on the bucket boundary nearest to an equal share.
  unsigned b = 0;
  for (unsigned p = 1; p < parts; ++p) {
    size_t want = pcs.size() * p / parts;
    while (b + 1 < count.size() && buckets_[b + 1] <= want) ++b;
    if (b + 1 < buckets_.size() && want - buckets_[b] > buckets_[b + 1] - want) ++b;
    part_buckets_[p] = std::max(b, part_buckets_[p - 1]);
  }
  part_buckets_[parts] = unsigned(count.size());
}

void PcOrder::sort_part(unsigned part) {
  if (wide_ || keys_.empty()) return;
  // The rest of the bits below the top digit: passes of at most kDigit bits, from scratch_ to keys_
  // and back; the keys end in keys_.
  int passes = (top_shift_ + kDigit - 1) / kDigit;
  int width = passes ? (top_shift_ + passes - 1) / passes : 0;
  uint64_t mask = (uint64_t(1) << width) - 1;
  std::vector<uint32_t> count(size_t(1) << width);
  for (unsigned b = part_buckets_[part]; b < part_buckets_[part + 1]; ++b) {
    uint64_t* from = scratch_.data() + buckets_[b];
    uint64_t* to = keys_.data() + buckets_[b];
    size_t n = buckets_[b + 1] - buckets_[b];
    for (int p = 0; p < passes && n > 1; ++p) {
      int shift = 32 + p * width;
      std::fill(count.begin(), count.end(), 0);
      for (size_t i = 0; i < n; ++i) ++count[(from[i] >> shift) & mask];
      uint32_t sum = 0;
      for (auto& c : count) sum += std::exchange(c, sum);
      for (size_t i = 0; i < n; ++i) to[count[(from[i] >> shift) & mask]++] = from[i];
      std::swap(from, to);
    }
    if (from != keys_.data() + buckets_[b]) std::copy(from, from + n, keys_.data() + buckets_[b]);
  }
}

}  // namespace goperf::symbolize

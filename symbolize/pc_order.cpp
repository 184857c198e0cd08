// PcOrder: LSD radix sort of packed keys, digits of up to 12 bits (a 16 KiB histogram stays in L1).
#include "symbolize/pc_order.h"

#include <algorithm>
#include <bit>

namespace goperf::symbolize {

void PcOrder::sort(std::span<const uint64_t> pcs) {
  keys_.clear();
  pairs_.clear();
  wide_ = false;
  if (pcs.empty()) return;
  auto [lo, hi] = std::minmax_element(pcs.begin(), pcs.end());
  base_ = *lo;
  uint64_t span = *hi - *lo;
  if (span >> 32 || pcs.size() >> 32) {
    wide_ = true;
    pairs_.resize(pcs.size());
    for (size_t i = 0; i < pcs.size(); ++i) pairs_[i] = {pcs[i], uint32_t(i)};
    std::sort(pairs_.begin(), pairs_.end());
    return;
  }
  keys_.resize(pcs.size());
  for (size_t i = 0; i < pcs.size(); ++i) keys_[i] = (pcs[i] - base_) << 32 | i;
  int bits = std::bit_width(span);
  int passes = (bits + 11) / 12;
  if (passes == 0) return;
  int width = (bits + passes - 1) / passes;
  scratch_.resize(pcs.size());
  count_.resize(size_t(1) << width);
  uint64_t mask = (uint64_t(1) << width) - 1;
  for (int p = 0; p < passes; ++p) {
    int shift = 32 + p * width;
    std::fill(count_.begin(), count_.end(), 0);
    for (uint64_t k : keys_) ++count_[(k >> shift) & mask];
    uint32_t sum = 0;
    for (auto& c : count_) sum += std::exchange(c, sum);
    for (uint64_t k : keys_) scratch_[count_[(k >> shift) & mask]++] = k;
    keys_.swap(scratch_);
  }
}

}  // namespace goperf::symbolize

// PcOrder against std::stable_sort of the same pcs: narrow batches (radix sort over packed keys) and wide
// ones (pcs spanning more than 4 GiB: comparison sort), with repeats, which must keep input order.
#include "symbolize/pc_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace goperf::symbolize {
namespace {

// sort(), and partition() into 1 to 5 parts sorted last part first: parts must cover the order in
// sequence and each must end up exactly as sort() has it.
void expect_sorted_like_stable_sort(const std::vector<uint64_t>& pcs) {
  std::vector<uint32_t> want(pcs.size());
  std::iota(want.begin(), want.end(), 0u);
  std::stable_sort(want.begin(), want.end(), [&](uint32_t a, uint32_t b) { return pcs[a] < pcs[b]; });
  for (unsigned parts = 0; parts <= 5; ++parts) {
    SCOPED_TRACE(::testing::Message() << (parts == 0 ? "sort()" : "parts: ") << parts);
    PcOrder order;
    if (parts == 0) {
      order.sort(pcs);
    } else {
      order.partition(pcs, parts);
      ASSERT_EQ(order.part_begin(0), 0u);
      ASSERT_EQ(order.part_end(parts - 1), pcs.size());
      for (unsigned p = 0; p < parts; ++p) {
        ASSERT_LE(order.part_begin(p), order.part_end(p));
        if (p > 0) {
          ASSERT_EQ(order.part_begin(p), order.part_end(p - 1));
        }
      }
      for (unsigned p = parts; p-- > 0;) order.sort_part(p);
    }
    ASSERT_EQ(order.size(), pcs.size());
    for (size_t k = 0; k < pcs.size(); ++k) {
      ASSERT_EQ(order.position(k), want[k]) << "k=" << k;
      ASSERT_EQ(order.pc(k), pcs[want[k]]) << "k=" << k;
    }
  }
}

TEST(PcOrder, PartsShareTheWorkWhenPcsSpreadOut) {
  std::mt19937_64 rnd(5);
  std::vector<uint64_t> pcs(100000);
  for (auto& pc : pcs) pc = 0x400000 + rnd() % (16 << 20);
  PcOrder order;
  order.partition(pcs, 2);
  EXPECT_NEAR(double(order.part_end(0)), 50000.0, 1000.0);
}

TEST(PcOrder, NarrowBatchesWithRepeats) {
  std::mt19937_64 rnd(3);
  for (uint64_t span : {1ull, 2ull, 255ull, 4096ull, 1ull << 24, (1ull << 32) - 1}) {
    SCOPED_TRACE(span);
    std::vector<uint64_t> pcs(20000);
    for (auto& pc : pcs) pc = 0x400000 + rnd() % span;
    expect_sorted_like_stable_sort(pcs);
  }
}

TEST(PcOrder, WideBatchesAndEdgeCases) {
  std::mt19937_64 rnd(4);
  std::vector<uint64_t> pcs(5000);
  for (auto& pc : pcs) pc = rnd() % 64 == 0 ? ~0ull - rnd() % 3 : rnd() % 1000;
  expect_sorted_like_stable_sort(pcs);
  expect_sorted_like_stable_sort({});
  expect_sorted_like_stable_sort({42});
  expect_sorted_like_stable_sort({7, 7, 7});
  expect_sorted_like_stable_sort({0, ~0ull, 0});
}

}  // namespace
}  // namespace goperf::symbolize

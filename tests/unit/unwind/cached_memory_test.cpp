// CachedMemory and ProcessMemory: copies, page caching, detaching from the live process.
#include "unwind/cached_memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

#include "unwind/process_memory.h"

namespace goperf::unwind {
namespace {

class CountingMemory : public Memory {
 public:
  explicit CountingMemory(const Memory& m) : m_(m) {}
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    ++reads;
    return m_.read(addr, out);
  }
  mutable int reads = 0;

 private:
  const Memory& m_;
};

alignas(4096) static uint8_t g_page[3 * 4096];

TEST(ProcessMemoryTest, ReadsOwnMemoryAndManyRanges) {
  for (size_t i = 0; i < sizeof g_page; ++i) g_page[i] = static_cast<uint8_t>(i * 7);
  ProcessMemory mem(getpid());
  uint8_t buf[100];
  ASSERT_TRUE(mem.read(reinterpret_cast<uint64_t>(g_page) + 10, buf));
  EXPECT_EQ(std::memcmp(buf, g_page + 10, sizeof buf), 0);
  EXPECT_FALSE(mem.read(8, buf));  // page zero is never mapped

  uint8_t a[16], b[16], c[16];
  iovec remote[3] = {{g_page + 1, 16}, {reinterpret_cast<void*>(16), 16}, {g_page + 5000, 16}};
  iovec local[3] = {{a, 16}, {b, 16}, {c, 16}};
  bool ok[3] = {};
  EXPECT_EQ(mem.read_many(remote, local, ok), 2u);
  EXPECT_TRUE(ok[0]);
  EXPECT_FALSE(ok[1]);
  EXPECT_TRUE(ok[2]);
  EXPECT_EQ(std::memcmp(c, g_page + 5000, 16), 0);
}

TEST(CachedMemoryTest, ReadsEachPageOnceAndServesCopiesAfterDetach) {
  ProcessMemory pm(getpid());
  CountingMemory counting(pm);
  CachedMemory cache(&counting);
  uint64_t base = reinterpret_cast<uint64_t>(g_page);
  uint64_t v1 = 0, v2 = 0;
  ASSERT_TRUE(cache.read(base + 8, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v1), 8)));
  ASSERT_TRUE(cache.read(base + 16, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v2), 8)));
  EXPECT_EQ(counting.reads, 1);
  uint8_t across[32];
  ASSERT_TRUE(cache.read(base + 4096 - 16, across));  // spans two pages
  EXPECT_EQ(std::memcmp(across, g_page + 4096 - 16, 32), 0);

  cache.add_range(0x1000000, std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
  cache.add_range(0x1000004, std::vector<uint8_t>{9, 9});  // overwrites the middle
  cache.detach_backing();
  uint8_t got[8];
  ASSERT_TRUE(cache.read(0x1000000, std::span<uint8_t>(got, 4)));
  EXPECT_EQ(got[3], 4);
  ASSERT_TRUE(cache.read(0x1000004, std::span<uint8_t>(got, 2)));
  EXPECT_EQ(got[0], 9);
  ASSERT_TRUE(cache.read(0x1000006, std::span<uint8_t>(got, 2)));
  EXPECT_EQ(got[1], 8);
  EXPECT_FALSE(cache.read(base + 3 * 4096 - 8, std::span<uint8_t>(got, 8)));  // never read, backing gone
  EXPECT_TRUE(cache.read(base + 8, std::span<uint8_t>(got, 8)));              // cached page still served
}

// Many overlapping copies added in any order read back as if each had been written over the
// earlier ones, byte for byte, and bytes never copied stay unreadable without a backing memory.
TEST(CachedMemoryTest, OverlappingRangesLatestWins) {
  constexpr uint64_t kBase = 0x7000000, kSpan = 512;
  uint32_t seed = 12345;
  auto rnd = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  for (int round = 0; round < 20; ++round) {
    CachedMemory cache(nullptr);
    int model[kSpan];
    std::fill(std::begin(model), std::end(model), -1);
    const int n = 1 + static_cast<int>(rnd() % 40);
    for (int i = 0; i < n; ++i) {
      uint64_t off = rnd() % kSpan, len = 1 + rnd() % 64;
      if (off + len > kSpan) len = kSpan - off;
      std::vector<uint8_t> bytes(len);
      for (auto& b : bytes) b = static_cast<uint8_t>(rnd());
      for (uint64_t k = 0; k < len; ++k) model[off + k] = bytes[k];
      cache.add_range(kBase + off, std::move(bytes));
      if (rnd() % 4 == 0) {  // reads between additions settle what was added so far
        uint8_t b;
        (void)cache.read(kBase + off, std::span<uint8_t>(&b, 1));
      }
    }
    for (uint64_t k = 0; k < kSpan; ++k) {
      uint8_t b = 0;
      bool ok = static_cast<bool>(cache.read(kBase + k, std::span<uint8_t>(&b, 1)));
      ASSERT_EQ(ok, model[k] >= 0) << "round " << round << " offset " << k;
      if (ok) {
        ASSERT_EQ(b, model[k]) << "round " << round << " offset " << k;
      }
    }
  }
}

}  // namespace
}  // namespace goperf::unwind

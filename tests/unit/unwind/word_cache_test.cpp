// read_words and WordCache over this process's own memory: every word lands at its index whatever the
// order of the addresses, an unreadable one is reported (and left to the backing), nothing is invented.
#include "unwind/word_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "unwind/process_memory.h"

namespace goperf::unwind {
namespace {

TEST(ReadWordsTest, EveryWordAtItsIndexInAnyOrderAndUnreadableOnesSaySo) {
  std::vector<uint64_t> data(4096);  // 8 pages
  for (size_t i = 0; i < data.size(); ++i) data[i] = i * 0x1001 + 7;
  ProcessMemory self(getpid());
  // Ascending runs in a page, a jump back, a page crossed, and an address nothing is mapped at.
  std::vector<size_t> idx = {0, 1, 5, 600, 3, 4095, 2048, 2049, 2047};
  std::vector<uint64_t> addrs;
  for (size_t i : idx) addrs.push_back(reinterpret_cast<uint64_t>(&data[i]));
  addrs.push_back(8);
  std::vector<uint64_t> out(addrs.size(), 0);
  std::unique_ptr<bool[]> ok(new bool[addrs.size()]);
  read_words(self, addrs, out, std::span<bool>(ok.get(), addrs.size()));
  for (size_t k = 0; k < idx.size(); ++k) {
    EXPECT_TRUE(ok[k]) << k;
    EXPECT_EQ(out[k], data[idx[k]]) << k;
  }
  EXPECT_FALSE(ok[idx.size()]);
}

TEST(WordCacheTest, AnswersFromTheWordsReadAheadAndFromTheBackingOtherwise) {
  std::vector<uint64_t> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = ~i;
  ProcessMemory self(getpid());
  WordCache cache(&self, &self);
  std::vector<uint64_t> addrs;
  for (size_t i = 0; i < data.size(); i += 3) addrs.push_back(reinterpret_cast<uint64_t>(&data[i]));
  cache.prefetch(addrs);
  for (size_t i = 0; i < data.size(); i += 3) data[i] = 0;  // kept words do not change
  for (size_t i = 0; i < data.size(); ++i) {
    auto v = cache.read_u64(reinterpret_cast<uint64_t>(&data[i]));
    ASSERT_TRUE(v.ok()) << i;
    EXPECT_EQ(*v, i % 3 == 0 ? ~uint64_t{i} : data[i]) << i;  // the rest comes from the backing
  }
  auto half = cache.read_value<uint32_t>(reinterpret_cast<uint64_t>(&data[3]));
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(*half, static_cast<uint32_t>(~uint64_t{3}));
}

}  // namespace
}  // namespace goperf::unwind

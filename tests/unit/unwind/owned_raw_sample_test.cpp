// Unit tests of OwnedRawSample: the copy keeps every span's contents once the source is gone, survives a
// move, and a reused object holds only its latest sample.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "unwind/owned_raw_sample.h"

namespace goperf::unwind {
namespace {

TEST(OwnedRawSample, OutlivesItsSourceAndMoves) {
  OwnedRawSample owned;
  {
    auto stack = std::make_unique<std::vector<uint8_t>>(std::vector<uint8_t>{1, 2, 3});
    auto stack2 = std::make_unique<std::vector<uint8_t>>(std::vector<uint8_t>{4, 5});
    auto kernel = std::make_unique<std::vector<uint64_t>>(std::vector<uint64_t>{0xffffffff81000010});
    auto user = std::make_unique<std::vector<uint64_t>>(std::vector<uint64_t>{0x401000, 0x402000});
    auto key = std::make_unique<std::string>("a key longer than a short string buffer");
    auto value = std::make_unique<std::string>("v");
    std::vector<std::pair<std::string_view, std::string_view>> labels{{*key, *value}, {"", "empty key"}};
    RawSample s;
    s.tid = 7;
    s.stack = *stack;
    s.stack2_base = 0xc000010000;
    s.stack2 = *stack2;
    s.kernel_chain = *kernel;
    s.user_chain = *user;
    s.labels = labels;
    owned.assign(s);
    EXPECT_EQ(OwnedRawSample::copied_bytes(s), 3 + 2 + 3 * 8 + labels.size() * sizeof(labels[0]) + key->size() + 1 + 9);
  }
  OwnedRawSample moved = std::move(owned);
  const RawSample& s = moved.sample();
  EXPECT_EQ(s.tid, 7u);
  EXPECT_EQ(std::vector<uint8_t>(s.stack.begin(), s.stack.end()), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(s.stack2_base, 0xc000010000u);
  EXPECT_EQ(std::vector<uint8_t>(s.stack2.begin(), s.stack2.end()), (std::vector<uint8_t>{4, 5}));
  EXPECT_EQ(std::vector<uint64_t>(s.kernel_chain.begin(), s.kernel_chain.end()), (std::vector<uint64_t>{0xffffffff81000010}));
  EXPECT_EQ(std::vector<uint64_t>(s.user_chain.begin(), s.user_chain.end()), (std::vector<uint64_t>{0x401000, 0x402000}));
  ASSERT_EQ(s.labels.size(), 2u);
  EXPECT_EQ(s.labels[0].first, "a key longer than a short string buffer");
  EXPECT_EQ(s.labels[0].second, "v");
  EXPECT_EQ(s.labels[1].first, "");
  EXPECT_EQ(s.labels[1].second, "empty key");

  RawSample bare;
  bare.tid = 8;
  moved.assign(bare);
  EXPECT_EQ(moved.sample().tid, 8u);
  EXPECT_TRUE(moved.sample().stack.empty() && moved.sample().stack2.empty() && moved.sample().labels.empty());
  EXPECT_TRUE(moved.sample().kernel_chain.empty() && moved.sample().user_chain.empty());
}

}  // namespace
}  // namespace goperf::unwind

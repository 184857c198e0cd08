// StackWindowMemory answers reads inside the sampled window and nothing else without a fallback.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "unwind/stack_window_memory.h"

namespace goperf::unwind {
namespace {

class FixedMemory final : public Memory {
 public:
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(addr + i);
    return {};
  }
};

TEST(StackWindowMemory, ReadsInsideTheWindow) {
  std::vector<uint8_t> bytes(64);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  StackWindowMemory m(nullptr, nullptr);
  m.set_window(0x1000, bytes);
  auto v = m.read_u64(0x1008);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 0x0f0e0d0c0b0a0908ULL);
  EXPECT_TRUE(m.read_u64(0x1000 + 56));
  EXPECT_FALSE(m.read_u64(0x1000 + 57));  // crosses the end
  EXPECT_FALSE(m.read_u64(0xff8));        // below sp
  EXPECT_EQ(m.window_end(), 0x1040u);
}

TEST(StackWindowMemory, FallsBackOutsideTheWindow) {
  std::vector<uint8_t> bytes(16, 0xaa);
  FixedMemory live;
  StackWindowMemory m(nullptr, &live);
  m.set_window(0x1000, bytes);
  auto inside = m.read_value<uint8_t>(0x1001);
  ASSERT_TRUE(inside);
  EXPECT_EQ(*inside, 0xaa);
  auto outside = m.read_value<uint8_t>(0x2003);
  ASSERT_TRUE(outside);
  EXPECT_EQ(*outside, 0x03);
}

}  // namespace
}  // namespace goperf::unwind

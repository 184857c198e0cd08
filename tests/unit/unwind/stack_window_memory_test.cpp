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

TEST(StackWindowMemory, SecondWindowAnswersItsOwnRangeUntilTheNextSample) {
  std::vector<uint8_t> g0(32, 0x11), goroutine(32, 0x22);
  StackWindowMemory m(nullptr, nullptr);
  m.set_window(0x7f0000001000, g0);
  m.set_second_window(0xc000400000, goroutine);
  EXPECT_EQ(m.read_u64(0x7f0000001008).value_or(0), 0x1111111111111111ULL);
  EXPECT_EQ(m.read_u64(0xc000400018).value_or(0), 0x2222222222222222ULL);
  EXPECT_FALSE(m.read_u64(0xc00040001c));  // crosses its end
  EXPECT_FALSE(m.read_u64(0xc0003ffff8));  // below it
  m.set_window(0x7f0000001000, g0);        // the next sample has none
  EXPECT_FALSE(m.read_u64(0xc000400000));
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

TEST(StackWindowMemory, LiveTailServesOnlyAboveTheCopyAndWithinItsBound) {
  std::vector<uint8_t> bytes(64, 0xaa);
  FixedMemory live;
  StackWindowMemory m(nullptr, nullptr);
  m.set_window(0x10000, bytes);
  EXPECT_FALSE(m.read_u64(0x10040));  // no tail set: the copy ends the stack
  m.set_live_tail(&live, 0x4000);
  EXPECT_FALSE(m.tail_used());
  auto inside = m.read_value<uint8_t>(0x10008);
  ASSERT_TRUE(inside);
  EXPECT_EQ(*inside, 0xaa);  // the copy wins where it has the bytes
  EXPECT_FALSE(m.tail_used());
  auto above = m.read_value<uint8_t>(0x12345);
  ASSERT_TRUE(above);
  EXPECT_EQ(*above, 0x45);
  EXPECT_TRUE(m.tail_used());
  auto crossing = m.read_u64(0x1003c);  // half in the copy, half above: read live as a whole
  ASSERT_TRUE(crossing);
  EXPECT_EQ(*crossing & 0xff, 0x3cu);
  EXPECT_FALSE(m.read_u64(0x13ffc));  // crosses the bound
  EXPECT_FALSE(m.read_u64(0xfff8));   // below sp: never live
  m.set_window(0x10000, bytes);
  EXPECT_FALSE(m.tail_used());  // per sample
}

}  // namespace
}  // namespace goperf::unwind

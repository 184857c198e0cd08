// DumpBuffer: its number formatting matches std::to_chars, and reserved room survives growth.
#include "profiler/dump/goroutine_dump_buffer.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

namespace goperf::profiler {
namespace {

std::string hex_by_to_chars(uint64_t v) {
  char buf[24] = "0x";
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
  return std::string(buf, r.ptr);
}

TEST(DumpBufferTest, HexMatchesToChars) {
  std::vector<uint64_t> values = {0, 1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0x47e1ae, 0x1f9cac2ad78,
                                  UINT64_MAX, UINT64_MAX >> 4, 1ull << 63};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(1ull << shift);
    values.push_back((1ull << shift) - 1);
    values.push_back(0x9e3779b97f4a7c15ull >> shift);
  }
  for (uint64_t v : values) {
    char buf[24];
    char* end = DumpBuffer::put_hex(buf, v);
    EXPECT_EQ(std::string(buf, end), hex_by_to_chars(v)) << v;
  }
}

TEST(DumpBufferTest, AppendsAcrossGrowth) {
  DumpBuffer b;
  std::string want;
  for (int i = 0; i < 20000; ++i) {
    char* p = b.reserve(64);
    p = DumpBuffer::put(p, "frame ");
    p = DumpBuffer::put_dec(p, i);
    p = DumpBuffer::put(p, ' ');
    p = DumpBuffer::put_hex(p, static_cast<uint64_t>(i) * 0x1001);
    b.commit(DumpBuffer::put(p, '\n'));
    want += "frame " + std::to_string(i) + " " + hex_by_to_chars(static_cast<uint64_t>(i) * 0x1001) + "\n";
  }
  EXPECT_EQ(b.view(), want);
  b.clear();
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace goperf::profiler

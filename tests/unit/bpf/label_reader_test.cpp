// LabelReader over synthetic memory laid out as runtime/pprof's label sets: the []label form (Go 1.24+)
// and the map[string]string form (hmap + buckets, Go 1.19 - 1.23).
#include "bpf/label_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "unwind/memory.h"

namespace goperf::bpf {
namespace {

class FakeMemory final : public unwind::Memory {
 public:
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes.find(addr + i);
      if (it == bytes.end()) return make_error(ErrorCode::kUnavailable, "unmapped");
      out[i] = it->second;
    }
    ++reads;
    return {};
  }
  void put(uint64_t addr, const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) bytes[addr + i] = static_cast<const uint8_t*>(p)[i];
  }
  void put64(uint64_t addr, uint64_t v) { put(addr, &v, 8); }
  void zero(uint64_t addr, size_t n) {
    for (size_t i = 0; i < n; ++i) bytes[addr + i] = 0;
  }
  // A Go string header at addr pointing at text stored at data.
  void put_string(uint64_t addr, uint64_t data, const std::string& s) {
    put(data, s.data(), s.size());
    put64(addr, data);
    put64(addr + 8, s.size());
  }
  std::map<uint64_t, uint8_t> bytes;
  mutable int reads = 0;
};

TEST(LabelReader, DecodesSliceLayoutAndCaches) {
  FakeMemory m;
  // labelMap{List: []Label{{"worker","b"},{"a-key","x"}}} at 0x1000, its array at 0x2000.
  m.put64(0x1000, 0x2000);
  m.put64(0x1008, 2);
  m.put64(0x1010, 4);
  m.put_string(0x2000, 0x3000, "worker");
  m.put_string(0x2010, 0x3100, "b");
  m.put_string(0x2020, 0x3200, "a-key");
  m.put_string(0x2030, 0x3300, "a long value that does not fit inline");
  LabelReader r(26);
  auto got = r.get(7, 0x1000, m);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "a-key");
  EXPECT_EQ(got[0].second, "a long value that does not fit inline");
  EXPECT_EQ(got[1].first, "worker");
  EXPECT_EQ(got[1].second, "b");
  int reads = m.reads;
  EXPECT_EQ(r.get(7, 0x1000, m).size(), 2u);
  EXPECT_EQ(m.reads, reads);  // cached: a label set is immutable once published
  EXPECT_TRUE(r.get(7, 0, m).empty());
}

TEST(LabelReader, DecodesMapLayoutWithOverflow) {
  FakeMemory m;
  // *labelMap at 0x1000 -> hmap at 0x5000 (count 2, B 0), one bucket at 0x6000, overflow at 0x7000.
  m.put64(0x1000, 0x5000);
  m.zero(0x5000, 48);
  m.put64(0x5000, 2);
  m.put64(0x5010, 0x6000);
  m.zero(0x6000, 272);
  m.zero(0x7000, 272);
  uint8_t top = 0x80, empty = 1;
  m.put(0x6000, &top, 1);
  m.put(0x6001, &empty, 1);
  m.put_string(0x6008, 0x9000, "worker");
  m.put_string(0x6088, 0x9100, "c");
  m.put64(0x6000 + 264, 0x7000);
  m.put(0x7003, &top, 1);
  m.put_string(0x7008 + 3 * 16, 0x9200, "phase");
  m.put_string(0x7088 + 3 * 16, 0x9300, "two");
  for (int minor : {19, 0}) {
    LabelReader r(minor);
    auto got = r.get(1, 0x1000, m);
    ASSERT_EQ(got.size(), 2u) << "go_minor " << minor;
    EXPECT_EQ(got[0].first, "phase");
    EXPECT_EQ(got[0].second, "two");
    EXPECT_EQ(got[1].first, "worker");
    EXPECT_EQ(got[1].second, "c");
  }
}

TEST(LabelReader, UnreadableGivesNoLabels) {
  FakeMemory m;
  LabelReader r(26);
  EXPECT_TRUE(r.get(1, 0xdead0000, m).empty());
}

}  // namespace
}  // namespace goperf::bpf

// The wait-object layouts must equal the fixtures scripts/measure_layouts.sh wrote from the DWARF of each
// toolchain (tests/fixtures/layouts/go1.XX.json); read_wait_objects over a synthetic sudog list and channels.
#include "unwind/wait_objects.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

// The offset of `field` in `st` in a fixture (encoding/json with indentation: "name": "x", "offset": N).
int64_t fixture_offset(const std::string& file, const std::string& st, const std::string& field) {
  std::ifstream in(std::string(GOPERF_SOURCE_DIR) + "/tests/fixtures/layouts/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  size_t at = s.find("\"" + st + "\": {");
  if (at == std::string::npos) return -1;
  size_t end = s.find(']', at);
  size_t f = s.find("\"name\": \"" + field + "\"", at);
  if (f == std::string::npos || f > end) return -1;
  size_t o = s.find("\"offset\": ", f) + 10;
  return std::stoll(s.substr(o, 24));
}

TEST(WaitLayoutTest, TablesEqualFixtures) {
  for (auto [minor, file] : {std::pair{19, "go1.19.json"}, {26, "go1.26.json"}, {27, "go1.27.3.json"}}) {
    const WaitLayout* l = wait_layout_for(minor);
    ASSERT_NE(l, nullptr) << minor;
    EXPECT_EQ(l->g_waiting, fixture_offset(file, "runtime.g", "waiting")) << file;
    EXPECT_EQ(l->sudog_next, fixture_offset(file, "runtime.sudog", "next")) << file;
    EXPECT_EQ(l->sudog_waitlink, fixture_offset(file, "runtime.sudog", "waitlink")) << file;
    EXPECT_EQ(l->sudog_c, fixture_offset(file, "runtime.sudog", "c")) << file;
    EXPECT_EQ(l->hchan_qcount, fixture_offset(file, "runtime.hchan", "qcount")) << file;
    EXPECT_EQ(l->hchan_dataqsiz, fixture_offset(file, "runtime.hchan", "dataqsiz")) << file;
    EXPECT_EQ(l->hchan_closed, fixture_offset(file, "runtime.hchan", "closed")) << file;
    EXPECT_EQ(l->hchan_recvq, fixture_offset(file, "runtime.hchan", "recvq")) << file;
    EXPECT_EQ(l->hchan_sendq, fixture_offset(file, "runtime.hchan", "sendq")) << file;
  }
  EXPECT_EQ(wait_layout_for(22), nullptr);  // not measured: no guess
}

class MapMemory : public Memory {
 public:
  std::map<uint64_t, uint64_t> words;
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); i += 8) {
      auto it = words.find(addr + i);
      if (it == words.end()) return Error(ErrorCode::kUnavailable, "unmapped");
      std::memcpy(out.data() + i, &it->second, std::min<size_t>(8, out.size() - i));
    }
    return {};
  }
};

TEST(WaitObjectsTest, SelectListsEveryChannelWithItsQueue) {
  const WaitLayout& l = *wait_layout_for(26);
  MapMemory m;
  const uint64_t g = 0x1000, s1 = 0x2000, s2 = 0x3000, a = 0x4000, b = 0x5000;
  auto chan = [&](uint64_t c, uint64_t len, uint64_t cap, uint64_t closed, uint64_t recv, uint64_t send) {
    m.words[c + l.hchan_qcount] = len;
    m.words[c + l.hchan_dataqsiz] = cap;
    m.words[c + l.hchan_closed] = closed;  // the uint32 and what follows it
    m.words[c + l.hchan_recvq] = recv;
    m.words[c + l.hchan_sendq] = send;
  };
  m.words[g + l.g_waiting] = s1;
  m.words[s1 + l.sudog_c] = a;
  m.words[s1 + l.sudog_waitlink] = s2;
  m.words[s1 + l.sudog_next] = 0;
  m.words[s2 + l.sudog_c] = b;
  m.words[s2 + l.sudog_waitlink] = 0;
  m.words[s2 + l.sudog_next] = 0;
  chan(a, 0, 0, 0, s1, 0);
  chan(b, 2, 3, 1, 0, s2);
  ChannelQueues queues;
  auto r = read_wait_objects(m, g, l, queues);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].address, a);
  EXPECT_EQ((*r)[0].direction, "receive");
  EXPECT_EQ((*r)[0].cap, 0u);
  EXPECT_EQ((*r)[1].address, b);
  EXPECT_EQ((*r)[1].direction, "send");
  EXPECT_EQ((*r)[1].len, 2u);
  EXPECT_EQ((*r)[1].cap, 3u);
  EXPECT_TRUE((*r)[1].closed);
  m.words[g + l.g_waiting] = 0;
  auto none = read_wait_objects(m, g, l, queues);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  m.words[g + l.g_waiting] = 0x9000;  // a sudog that is not there
  EXPECT_FALSE(read_wait_objects(m, g, l, queues).ok());
}

}  // namespace
}  // namespace goperf::unwind

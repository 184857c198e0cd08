// The wait layouts must equal the fixtures scripts/measure_layouts.sh wrote from the DWARF of each
// toolchain (tests/fixtures/layouts/go1.XX.json).
#include "unwind/wait_layout.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

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
    const bool traceable = minor >= 26;  // sudog.elem and sudog.c became maybeTraceablePtr{vp, vu}: vu is read
    auto eq = [&](uint32_t ours, const char* st, const std::string& field) {
      EXPECT_EQ(ours, fixture_offset(file, st, field)) << file << " " << st << "." << field;
    };
    eq(l->g_waiting, "runtime.g", "waiting");
    eq(l->g_timer, "runtime.g", "timer");
    if (l->g_sleep_when != WaitLayout::kNone) eq(l->g_sleep_when, "runtime.g", "sleepWhen");
    EXPECT_EQ(l->g_sleep_when == WaitLayout::kNone, fixture_offset(file, "runtime.g", "sleepWhen") < 0) << file;
    eq(l->sudog_g, "runtime.sudog", "g");
    eq(l->sudog_next, "runtime.sudog", "next");
    eq(l->sudog_elem, "runtime.sudog", traceable ? "elem.vu" : "elem");
    eq(l->sudog_waitlink, "runtime.sudog", "waitlink");
    eq(l->sudog_c, "runtime.sudog", traceable ? "c.maybeTraceablePtr.vu" : "c");
    eq(l->hchan_qcount, "runtime.hchan", "qcount");
    eq(l->hchan_dataqsiz, "runtime.hchan", "dataqsiz");
    eq(l->hchan_closed, "runtime.hchan", "closed");
    if (l->hchan_timer != WaitLayout::kNone) eq(l->hchan_timer, "runtime.hchan", "timer");
    EXPECT_EQ(l->hchan_timer == WaitLayout::kNone, fixture_offset(file, "runtime.hchan", "timer") < 0) << file;
    eq(l->hchan_recvq, "runtime.hchan", "recvq");
    eq(l->hchan_sendq, "runtime.hchan", "sendq");
    eq(l->timer_when, "runtime.timer", "when");
    if (l->timer_nextwhen != WaitLayout::kNone) eq(l->timer_nextwhen, "runtime.timer", "nextwhen");
    EXPECT_EQ(l->g_sleep_when == WaitLayout::kNone, l->timer_nextwhen != WaitLayout::kNone) << file;
    eq(l->poll_fd, "runtime.pollDesc", "fd");
    eq(l->poll_rg, "runtime.pollDesc", "rg");
    eq(l->poll_wg, "runtime.pollDesc", "wg");
    eq(l->poll_self, "runtime.pollDesc", "self");
    eq(l->notify_wait, "runtime.notifyList", "wait");
    eq(l->notify_notify, "runtime.notifyList", "notify");
    eq(l->notify_head, "runtime.notifyList", "head");
    eq(l->mutex_sema, "sync.Mutex", traceable ? "mu.sema" : "sema");
    eq(l->rwmutex_writer_sem, "sync.RWMutex", "writerSem");
    eq(l->rwmutex_reader_sem, "sync.RWMutex", "readerSem");
    eq(l->rwmutex_reader_count, "sync.RWMutex", "readerCount");
    eq(l->rwmutex_reader_wait, "sync.RWMutex", "readerWait");
    eq(l->waitgroup_state, "sync.WaitGroup", traceable ? "state" : "state1");
    eq(l->waitgroup_sema, "sync.WaitGroup", traceable ? "sema" : "state2");
    eq(l->cond_notify, "sync.Cond", "notify");
  }
  EXPECT_EQ(wait_layout_for(22), nullptr);  // not measured: no guess
}

}  // namespace
}  // namespace goperf::unwind

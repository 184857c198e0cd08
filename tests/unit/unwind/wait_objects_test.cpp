// read_wait_objects over synthetic runtime objects: a select's sudog list and channels, semaphores and
// notifyLists on g.waiting (1.26+) or in the parked frames (1.19), pollDescs, sleeps.
#include "unwind/wait_objects.h"
#include "unwind/wait_layout.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

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
  WaitLists queues;
  auto r = read_wait_objects(m, g, "select", {}, l, queues);
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
  auto none = read_wait_objects(m, g, "select", {}, l, queues);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  m.words[g + l.g_waiting] = 0x9000;  // a sudog that is not there
  EXPECT_FALSE(read_wait_objects(m, g, "select", {}, l, queues).ok());
}

// A stack range [lo, hi) in `m` (a frame and its caller's, whose argument spill area is scanned too),
// every word zero but `words` (placed from lo + 8 on).
void stack(MapMemory& m, uint64_t lo, uint64_t hi, std::initializer_list<uint64_t> words) {
  for (uint64_t a = lo; a < hi; a += 8) m.words[a] = 0;
  uint64_t a = lo;
  for (uint64_t w : words) m.words[a += 8] = w;
}

TEST(WaitObjectsTest, Go126SemaphoreOnWaitingNamesTheSyncObjectFromTheFrames) {
  const WaitLayout& l = *wait_layout_for(26);
  MapMemory m;
  const uint64_t g = 0x1000, s = 0x2000, mu = 0x4000;
  m.words[g + l.g_waiting] = s;
  m.words[s + l.sudog_c] = 0;
  m.words[s + l.sudog_elem] = mu + l.mutex_sema;
  m.words[s + l.sudog_waitlink] = 0;
  m.words[mu] = 1 | (5 << 3);  // locked, 5 waiters
  m.words[mu + l.mutex_sema] = 0;
  m.words[mu + l.rwmutex_reader_count] = 0;
  m.words[mu + l.rwmutex_reader_wait] = 0;
  std::vector<WaitFrame> frames = {{"runtime.gopark"}, {"runtime.semacquire1"},
                                   {"internal/sync.runtime_SemacquireMutex"}, {"internal/sync.(*Mutex).lockSlow"},
                                   {"internal/sync.(*Mutex).Lock"}, {"sync.(*Mutex).Lock"}, {"main.f"}};
  WaitLists lists;
  auto r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, "mutex");
  EXPECT_EQ((*r)[0].address, mu);
  EXPECT_EQ((*r)[0].state, 1u | (5u << 3));
  // RWMutex.Lock waits first on its writer Mutex, at offset 0 of the RWMutex.
  frames.insert(frames.begin() + 6, WaitFrame{"sync.(*RWMutex).Lock"});
  r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].kind, "rwmutex");
  EXPECT_EQ((*r)[0].direction, "write");
  EXPECT_EQ((*r)[0].address, mu);
  // Another user of the semaphore: the semaphore itself, not a guess at its owner.
  frames = {{"runtime.gopark"}, {"runtime.semacquire1"}, {"main.g"}};
  r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].kind, "sema");
  EXPECT_EQ((*r)[0].address, mu + l.mutex_sema);
}

TEST(WaitObjectsTest, Go119WaitGroupSudogIsFoundOnTheStackOnlyWhenItsGIsTheGoroutine) {
  const WaitLayout& l = *wait_layout_for(19);
  MapMemory m;
  const uint64_t g = 0x1000, other = 0x1800, s = 0x20000, decoy = 0x30000, wg = 0x40000;
  m.words[g + l.g_waiting] = 0;
  // semacquire1's frame holds a decoy sudog of another goroutine, a pointer into the stack, and its own.
  stack(m, 0x7040, 0x70a0, {decoy, 0x7050, s});
  m.words[decoy + l.sudog_g] = other;
  m.words[decoy + l.sudog_elem] = 0x50000;
  m.words[s + l.sudog_g] = g;
  m.words[s + l.sudog_elem] = wg + l.waitgroup_sema;
  m.words[wg + l.waitgroup_state] = (uint64_t{1} << 32) | 6;
  std::vector<WaitFrame> frames = {{"runtime.gopark", 0x7000, 0x7040}, {"runtime.semacquire1", 0x7040, 0x7080},
                                   {"sync.runtime_Semacquire", 0x7080, 0x70a0},
                                   {"sync.(*WaitGroup).Wait", 0x70a0, 0x70e0}, {"main.f", 0x70e0, 0x7100}};
  WaitLists lists;
  auto r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, "waitgroup");
  EXPECT_EQ((*r)[0].address, wg);
  EXPECT_EQ((*r)[0].counter, 1);
  EXPECT_EQ((*r)[0].waiters, 6u);
  m.words[s + l.sudog_g] = other;  // no sudog of this goroutine: nothing is claimed
  r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->empty());
}

TEST(WaitObjectsTest, Go119CondIsTheStackWordWhoseNotifyListHoldsTheGoroutine) {
  const WaitLayout& l = *wait_layout_for(19);
  MapMemory m;
  const uint64_t g = 0x1000, other = 0x1800, s1 = 0x20000, s2 = 0x21000, c = 0x40000, not_cond = 0x48000;
  m.words[g + l.g_waiting] = 0;
  stack(m, 0x7100, 0x7160, {not_cond, c});
  const uint64_t list = c + l.cond_notify, other_list = not_cond + l.cond_notify;
  m.words[other_list + l.notify_head] = 0x22000;  // a list without this goroutine
  m.words[0x22000 + l.sudog_g] = other;
  m.words[0x22000 + l.sudog_next] = 0;
  m.words[list + l.notify_wait] = 3;
  m.words[list + l.notify_notify] = 1;
  m.words[list + l.notify_head] = s1;
  m.words[s1 + l.sudog_g] = other;
  m.words[s1 + l.sudog_next] = s2;
  m.words[s2 + l.sudog_g] = g;
  m.words[s2 + l.sudog_next] = 0;
  std::vector<WaitFrame> frames = {{"runtime.gopark", 0x7000, 0x7040}, {"sync.runtime_notifyListWait", 0x7040, 0x7100},
                                   {"sync.(*Cond).Wait", 0x7100, 0x7140}, {"main.f", 0x7140, 0x7160}};
  WaitLists lists;
  auto r = read_wait_objects(m, g, "", frames, l, lists);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, "cond");
  EXPECT_EQ((*r)[0].address, c);
  EXPECT_EQ((*r)[0].waiters, 2u);
}

TEST(WaitObjectsTest, PollDescIsTheStackWordThatPointsToItselfAndHoldsTheGoroutine) {
  for (int minor : {19, 26}) {
    const WaitLayout& l = *wait_layout_for(minor);
    MapMemory m;
    const uint64_t g = 0x1000, pd = 0x60000, fake = 0x68000;
    m.words[g + l.g_waiting] = 0;
    stack(m, 0x7000, 0x70c0, {fake, pd});
    m.words[fake + l.poll_self] = 0;  // not a pollDesc
    m.words[pd + l.poll_self] = pd;
    m.words[pd + l.poll_rg] = 0;
    m.words[pd + l.poll_wg] = g;
    m.words[pd + l.poll_fd] = 7;
    std::vector<WaitFrame> frames = {{"runtime.gopark", 0x7000, 0x7020}, {"runtime.netpollblock", 0x7020, 0x7060},
                                     {"internal/poll.runtime_pollWait", 0x7060, 0x70a0}, {"main.f", 0x70a0, 0x70c0}};
    WaitLists lists;
    auto r = read_wait_objects(m, g, "", frames, l, lists);
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->size(), 1u) << minor;
    EXPECT_EQ((*r)[0].kind, "fd");
    EXPECT_EQ((*r)[0].address, pd);
    EXPECT_EQ((*r)[0].fd, 7);
    EXPECT_EQ((*r)[0].direction, "write");
  }
}

TEST(WaitObjectsTest, SleepGivesTheGoroutinesTimerAndDeadline) {
  for (int minor : {19, 26}) {
    const WaitLayout& l = *wait_layout_for(minor);
    MapMemory m;
    const uint64_t g = 0x1000, t = 0x9000;
    m.words[g + l.g_waiting] = 0;
    m.words[g + l.g_timer] = t;
    if (l.g_sleep_when != WaitLayout::kNone) m.words[g + l.g_sleep_when] = 123456789;
    else m.words[t + l.timer_nextwhen] = 123456789;
    std::vector<WaitFrame> frames = {{"runtime.gopark"}, {"time.Sleep"}, {"main.f"}};
    WaitLists lists;
    auto r = read_wait_objects(m, g, "", frames, l, lists);
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->size(), 1u) << minor;
    EXPECT_EQ((*r)[0].kind, "timer");
    EXPECT_EQ((*r)[0].address, t);
    EXPECT_EQ((*r)[0].when, 123456789);
  }
}

}  // namespace
}  // namespace goperf::unwind

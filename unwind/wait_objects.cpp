// Reading g.waiting and the channels of its sudogs (src/runtime/chan.go, select.go, runtime2.go sudog,
// waitq), with the offsets of each measured toolchain.
#include "unwind/wait_objects.h"

#include "unwind/memory.h"

namespace goperf::unwind {

namespace {

// Measured by scripts/measure_layouts.sh (tests/fixtures/layouts/go1.19.json, go1.26.json, go1.27.3.json;
// tests/unit/unwind/wait_objects_test.cpp keeps these equal to the fixtures). sudog and hchan changed
// between 1.19 and 1.26 (hchan grew from 96 to 112 bytes); the versions between were not measured, so they
// have no table.
constexpr WaitLayout kLayouts[] = {
    {19, 328, 8, 64, 80, 0, 8, 28, 56, 72},
    {26, 320, 8, 72, 88, 0, 8, 28, 64, 80},
    {27, 320, 8, 72, 88, 0, 8, 28, 64, 80},
};

// Bounds against a torn or cyclic list: a select has at most 65536 cases, queues are walked this far.
constexpr int kMaxSudogs = 65536;
constexpr int kMaxQueue = 1 << 20;

Status walk_queue(const Memory& m, uint64_t waitq, const WaitLayout& l, std::unordered_set<uint64_t>& out) {
  auto first = m.read_u64(waitq);
  if (!first) return first.error();
  uint64_t s = *first;
  for (int i = 0; s != 0 && i < kMaxQueue; ++i) {
    out.insert(s);
    auto next = m.read_u64(s + l.sudog_next);
    if (!next) return next.error();
    s = *next;
  }
  return {};
}

}  // namespace

const WaitLayout* wait_layout_for(int go_minor) {
  for (const auto& l : kLayouts)
    if (l.go_minor == go_minor) return &l;
  return nullptr;
}

Result<std::string_view> ChannelQueues::direction(const Memory& m, uint64_t chan, uint64_t sudog, const WaitLayout& l) {
  auto it = by_chan_.find(chan);
  if (it == by_chan_.end()) {
    Queues q;
    if (auto r = walk_queue(m, chan + l.hchan_recvq, l, q.receive); !r) return r.error();
    if (auto r = walk_queue(m, chan + l.hchan_sendq, l, q.send); !r) return r.error();
    it = by_chan_.emplace(chan, std::move(q)).first;
  }
  if (it->second.receive.count(sudog)) return std::string_view("receive");
  if (it->second.send.count(sudog)) return std::string_view("send");
  return std::string_view("");
}

Result<std::vector<WaitObject>> read_wait_objects(const Memory& m, uint64_t g_addr, const WaitLayout& l,
                                                  ChannelQueues& queues) {
  std::vector<WaitObject> out;
  auto first = m.read_u64(g_addr + l.g_waiting);
  if (!first) return first.error().with_context("reading g.waiting");
  uint64_t s = *first;
  for (int i = 0; s != 0 && i < kMaxSudogs; ++i) {
    auto c = m.read_u64(s + l.sudog_c);
    if (!c) return c.error().with_context("reading a sudog");
    if (*c != 0) {
      WaitObject w;
      w.kind = "chan";
      w.address = *c;
      auto qcount = m.read_u64(*c + l.hchan_qcount);
      auto dataqsiz = m.read_u64(*c + l.hchan_dataqsiz);
      auto closed = m.read_value<uint32_t>(*c + l.hchan_closed);
      if (!qcount || !dataqsiz || !closed) return Error(ErrorCode::kUnavailable, "reading the channel of a sudog");
      w.len = *qcount;
      w.cap = *dataqsiz;
      w.closed = *closed != 0;
      auto direction = queues.direction(m, *c, s, l);
      if (!direction) return Error(ErrorCode::kUnavailable, "reading the queues of a channel");
      w.direction = *direction;
      out.push_back(w);
    }
    auto next = m.read_u64(s + l.sudog_waitlink);
    if (!next) return next.error().with_context("reading a sudog");
    s = *next;
  }
  return out;
}

}  // namespace goperf::unwind

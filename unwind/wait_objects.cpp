// Reading g.waiting and what its sudogs point to (src/runtime/chan.go, select.go, sema.go, runtime2.go
// sudog, waitq), and the dispatch to the objects kept on the goroutine's stack (unwind/wait_stack_scan).
#include "unwind/wait_objects.h"

#include "unwind/memory.h"
#include "unwind/sync_wait.h"
#include "unwind/wait_stack_scan.h"

namespace goperf::unwind {

namespace {

// Bounds against a torn or cyclic list: a select has at most 65536 cases, queues are walked this far.
constexpr int kMaxSudogs = 65536;
constexpr int kMaxQueue = 1 << 20;

// The sudogs of a list linked through `next_offset` from the pointer at `head`; stops at a repeat.
Status walk_list(const Memory& m, uint64_t head, uint32_t next_offset, std::unordered_set<uint64_t>& out) {
  auto first = m.read_u64(head);
  if (!first) return first.error();
  uint64_t s = *first;
  for (int i = 0; s != 0 && i < kMaxQueue && out.insert(s).second; ++i) {
    auto next = m.read_u64(s + next_offset);
    if (!next) return next.error();
    s = *next;
  }
  return {};
}

Result<WaitObject> channel(const Memory& m, uint64_t c, uint64_t sudog, std::string_view reason, const WaitLayout& l,
                           WaitLists& lists) {
  WaitObject w;
  w.kind = "chan";
  w.address = c;
  auto qcount = m.read_u64(c + l.hchan_qcount);
  auto dataqsiz = m.read_u64(c + l.hchan_dataqsiz);
  auto closed = m.read_value<uint32_t>(c + l.hchan_closed);
  if (!qcount || !dataqsiz || !closed) return Error(ErrorCode::kUnavailable, "reading the channel of a sudog");
  w.len = *qcount;
  w.cap = *dataqsiz;
  w.closed = *closed != 0;
  if (reason.starts_with("chan receive")) {  // "chan receive" and 1.27's "chan receive (durable)"
    w.direction = "receive";
  } else if (reason.starts_with("chan send")) {
    w.direction = "send";
  } else {
    auto direction = lists.direction(m, c, sudog, l);
    if (!direction) return Error(ErrorCode::kUnavailable, "reading the queues of a channel");
    w.direction = *direction;
  }
  if (l.hchan_timer != WaitLayout::kNone) {  // 1.23+: a timer channel keeps its timer (time.go, chan.go)
    auto timer = m.read_u64(c + l.hchan_timer);
    if (timer && *timer != 0) {
      auto when = m.read_value<int64_t>(*timer + l.timer_when);
      if (!when) return when.error().with_context("reading a channel's timer");
      w.timer = *timer;
      w.when = *when;
      // Its one-slot buffer is the runtime's: the program sees an unbuffered, empty channel (chan.go
      // chancap/chanlen; hchan.timer is set only for synchronous timer channels, time.go newTimer).
      w.len = w.cap = 0;
    }
  }
  return w;
}

// runtime.notifyListWait is linknamed sync.runtime_notifyListWait (sema.go): the pclntab has that name.
bool in_notify_list_wait(std::span<const WaitFrame> frames) {
  return find_frame(frames, "sync.runtime_notifyListWait") < frames.size() ||
         find_frame(frames, "runtime.notifyListWait") < frames.size();
}

// 1.26+: a semaphore or notifyList sudog on g.waiting (elem is its address).
Result<WaitObject> sema_or_cond(const Memory& m, uint64_t elem, std::span<const WaitFrame> frames,
                                const WaitLayout& l) {
  if (in_notify_list_wait(frames)) return cond_object(m, elem - l.cond_notify, l);
  return sync_object_of_sema(m, elem, frames, l);
}

// Waits whose object only the goroutine's frames hold (or, for a sleep, g.timer).
Result<std::vector<WaitObject>> from_frames(const Memory& m, uint64_t g, std::span<const WaitFrame> frames,
                                            const WaitLayout& l, WaitLists& lists) {
  std::vector<WaitObject> out;
  auto add = [&](Result<WaitObject> w) -> Status {
    if (!w) return w.error();
    out.push_back(*w);
    return {};
  };
  if (find_frame(frames, "runtime.semacquire1") < frames.size()) {
    auto sema = sema_on_stack(m, g, frames, l);
    if (!sema) return sema.error();
    if (*sema) {
      if (auto s = add(sync_object_of_sema(m, **sema, frames, l)); !s) return s.error();
    }
  } else if (in_notify_list_wait(frames)) {
    auto cond = cond_on_stack(m, g, frames, l, lists);
    if (!cond) return cond.error();
    if (*cond) {
      if (auto s = add(cond_object(m, **cond, l)); !s) return s.error();
    }
  } else if (find_frame(frames, "runtime.netpollblock") < frames.size()) {
    auto pd = poll_desc_on_stack(m, g, frames, l);
    if (!pd) return pd.error();
    if (*pd) out.push_back(**pd);
  } else if (size_t at = find_frame(frames, "time.Sleep"); at < frames.size() && at <= 2) {
    // runtime.timeSleep, linknamed time.Sleep, right under gopark
    if (auto s = add(sleep_timer(m, g, l)); !s) return s.error();
  }
  return out;
}

}  // namespace

Result<std::string_view> WaitLists::direction(const Memory& m, uint64_t chan, uint64_t sudog, const WaitLayout& l) {
  auto it = by_chan_.find(chan);
  if (it == by_chan_.end()) {
    Queues q;
    if (auto r = walk_list(m, chan + l.hchan_recvq, l.sudog_next, q.receive); !r) return r.error();
    if (auto r = walk_list(m, chan + l.hchan_sendq, l.sudog_next, q.send); !r) return r.error();
    it = by_chan_.emplace(chan, std::move(q)).first;
  }
  if (it->second.receive.count(sudog)) return std::string_view("receive");
  if (it->second.send.count(sudog)) return std::string_view("send");
  return std::string_view("");
}

Result<bool> WaitLists::in_notify_list(const Memory& m, uint64_t list, uint64_t g, const WaitLayout& l) {
  auto it = notify_gs_.find(list);
  if (it == notify_gs_.end()) {
    std::unordered_set<uint64_t> sudogs, gs;
    if (walk_list(m, list + l.notify_head, l.sudog_next, sudogs)) {
      for (uint64_t s : sudogs) {
        auto sg = m.read_u64(s + l.sudog_g);
        if (!sg) {
          gs.clear();  // not a list of sudogs: a value on the stack that only looked like a Cond
          break;
        }
        gs.insert(*sg);
      }
    }
    it = notify_gs_.emplace(list, std::move(gs)).first;
  }
  return it->second.count(g) != 0;
}

Result<std::vector<WaitObject>> read_wait_objects(const Memory& m, uint64_t g_addr, std::string_view reason,
                                                  std::span<const WaitFrame> frames, const WaitLayout& l,
                                                  WaitLists& lists, const WaitWords* ahead) {
  std::vector<WaitObject> out;
  if (ahead != nullptr && ahead->g != g_addr) ahead = nullptr;
  auto first = ahead && ahead->has_waiting ? Result<uint64_t>(ahead->waiting) : m.read_u64(g_addr + l.g_waiting);
  if (!first) return first.error().with_context("reading g.waiting");
  uint64_t s = *first;
  for (int i = 0; s != 0 && i < kMaxSudogs; ++i) {
    const bool read_ahead = i == 0 && ahead && ahead->has_sudog;
    auto c = read_ahead ? Result<uint64_t>(ahead->c) : m.read_u64(s + l.sudog_c);
    if (!c) return c.error().with_context("reading a sudog");
    Result<WaitObject> w = Error(ErrorCode::kUnavailable, "");
    if (*c != 0) {
      w = channel(m, *c, s, reason, l, lists);
    } else if (l.sema_on_waiting) {
      auto elem = m.read_u64(s + l.sudog_elem);
      if (!elem) return elem.error().with_context("reading a sudog");
      if (*elem != 0) w = sema_or_cond(m, *elem, frames, l);
    }
    if (!w && !w.error().message().empty()) return w.error();
    if (w) out.push_back(*w);
    // Only a select has more than one sudog; a semaphore's sudog uses waitlink for the other goroutines
    // waiting on the same address (sema.go semaRoot.queue), a notifyList's for nothing.
    if (*c == 0) break;
    auto next = read_ahead ? Result<uint64_t>(ahead->waitlink) : m.read_u64(s + l.sudog_waitlink);
    if (!next) return next.error().with_context("reading a sudog");
    s = *next;
  }
  if (!out.empty()) return out;
  return from_frames(m, g_addr, frames, l, lists);
}

}  // namespace goperf::unwind

// Semaphore -> sync object, from the frames above runtime.semacquire1 (src/sync/mutex.go lockSlow,
// rwmutex.go RLock/Lock, waitgroup.go Wait; from 1.24 the Mutex is internal/sync's), and the state words
// each keeps (mutex.go mutexLocked/mutexWoken/mutexStarving/mutexWaiterShift, waitgroup.go state).
#include "unwind/sync_wait.h"

#include <string_view>

#include "unwind/memory.h"

namespace goperf::unwind {

namespace {

struct SemaUser {
  std::string_view function;  // the sync function that called runtime_Semacquire*
  std::string_view kind;
  std::string_view direction;
  uint32_t WaitLayout::*sema_field;
};

constexpr SemaUser kSemaUsers[] = {
    {"sync.(*Mutex).lockSlow", "mutex", "", &WaitLayout::mutex_sema},
    {"internal/sync.(*Mutex).lockSlow", "mutex", "", &WaitLayout::mutex_sema},
    {"sync.(*RWMutex).RLock", "rwmutex", "read", &WaitLayout::rwmutex_reader_sem},
    {"sync.(*RWMutex).Lock", "rwmutex", "write", &WaitLayout::rwmutex_writer_sem},
    {"sync.(*WaitGroup).Wait", "waitgroup", "", &WaitLayout::waitgroup_sema},
};

bool in_sync(std::string_view f) { return f.starts_with("sync.") || f.starts_with("internal/sync."); }

Status fill_state(const Memory& m, WaitObject& w, const WaitLayout& l) {
  if (w.kind == "mutex" || w.kind == "rwmutex") {
    auto state = m.read_value<uint32_t>(w.address);  // sync.Mutex.state, RWMutex.w.state: both at offset 0
    if (!state) return state.error();
    w.state = *state;
  }
  if (w.kind == "rwmutex") {
    auto count = m.read_value<int32_t>(w.address + l.rwmutex_reader_count);
    auto wait = m.read_value<int32_t>(w.address + l.rwmutex_reader_wait);
    if (!count || !wait) return Error(ErrorCode::kUnavailable, "reading an RWMutex");
    w.reader_count = *count;
    w.reader_wait = *wait;
  }
  if (w.kind == "waitgroup") {
    auto state = m.read_u64(w.address + l.waitgroup_state);
    if (!state) return state.error();
    w.counter = static_cast<int32_t>(*state >> 32);
    w.waiters = static_cast<uint32_t>(*state & 0x7fffffff);  // bit 31: 1.25+'s synctest bubble flag
  }
  return {};
}

}  // namespace

size_t find_frame(std::span<const WaitFrame> frames, std::string_view function) {
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i].function == function) return i;
  return frames.size();
}

Result<WaitObject> sync_object_of_sema(const Memory& m, uint64_t sema, std::span<const WaitFrame> frames,
                                       const WaitLayout& l) {
  WaitObject w;
  w.kind = "sema";
  w.address = sema;
  for (size_t i = 0; i < frames.size() && w.kind == "sema"; ++i) {
    for (const auto& u : kSemaUsers) {
      if (frames[i].function != u.function) continue;
      w.kind = u.kind;
      w.direction = u.direction;
      w.address = sema - l.*u.sema_field;
      // RWMutex.Lock first takes its writer Mutex w, at offset 0: the same address, a writer waiting.
      for (size_t j = i + 1; w.kind == "mutex" && j < frames.size() && in_sync(frames[j].function); ++j)
        if (frames[j].function == "sync.(*RWMutex).Lock") {
          w.kind = "rwmutex";
          w.direction = "write";
        }
      break;
    }
  }
  if (w.kind == "sema") {
    auto value = m.read_value<uint32_t>(sema);
    if (!value) return value.error().with_context("reading a semaphore");
    w.counter = *value;
    return w;
  }
  if (auto s = fill_state(m, w, l); !s) return s.error().with_context("reading the state of a " + std::string(w.kind));
  return w;
}

Result<WaitObject> cond_object(const Memory& m, uint64_t cond, const WaitLayout& l) {
  WaitObject w;
  w.kind = "cond";
  w.address = cond;
  auto wait = m.read_value<uint32_t>(cond + l.cond_notify + l.notify_wait);
  auto notify = m.read_value<uint32_t>(cond + l.cond_notify + l.notify_notify);
  if (!wait || !notify) return Error(ErrorCode::kUnavailable, "reading a sync.Cond's notifyList");
  w.waiters = *wait - *notify;  // tickets handed out and not yet notified (sema.go notifyListAdd)
  return w;
}

Result<WaitObject> sleep_timer(const Memory& m, uint64_t g, const WaitLayout& l) {
  WaitObject w;
  w.kind = "timer";
  auto timer = m.read_u64(g + l.g_timer);
  if (!timer) return timer.error().with_context("reading g.timer");
  w.address = *timer;
  Result<int64_t> when = l.g_sleep_when != WaitLayout::kNone ? m.read_value<int64_t>(g + l.g_sleep_when)
                         : *timer != 0                        ? m.read_value<int64_t>(*timer + l.timer_nextwhen)
                                                              : Result<int64_t>(int64_t{0});
  if (!when) return when.error().with_context("reading a sleep's deadline");
  w.when = *when;
  return w;
}

}  // namespace goperf::unwind

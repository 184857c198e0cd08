// What a parked goroutine waits on, read from the runtime's memory: the sudogs of its `waiting` list
// (src/runtime/runtime2.go g.waiting, sudog; chan.go chanrecv/chansend, select.go selectgo, and from 1.26
// sema.go semacquire1/notifyListWait set it while the goroutine is parked), each channel (hchan: len, cap,
// closed, its queues, a timer channel's timer), the semaphore of a sync.Mutex, RWMutex or WaitGroup, the
// notifyList of a sync.Cond, the timer of time.Sleep and the pollDesc of an IO wait (unwind/wait_stack_scan).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "symbolize/result.h"
#include "unwind/wait_layout.h"

namespace goperf::unwind {

class Memory;

// One physical or inlined frame of the parked goroutine, innermost first: its function as the runtime
// names it, and the stack range [sp, fp) of its physical frame.
struct WaitFrame {
  std::string_view function;
  uint64_t sp = 0, fp = 0;
};

struct WaitObject {
  // "chan", "mutex", "rwmutex", "waitgroup", "cond", "sema", "timer", "fd", or "unknown" (then `why`).
  std::string_view kind;
  // The hchan, the sync.Mutex / RWMutex / WaitGroup / Cond itself (as `&x` in Go), the semaphore of a
  // "sema", the runtime timer, the runtime pollDesc; 0 when not known.
  uint64_t address = 0;
  uint64_t len = 0, cap = 0;   // chan
  bool closed = false;         // chan
  // chan: "receive", "send", or "" when the sudog is in neither queue (being woken); rwmutex: "read" or
  // "write" (RLock or Lock); fd: "read" or "write".
  std::string_view direction;
  uint32_t state = 0;          // mutex, rwmutex: sync.Mutex.state (of RWMutex.w)
  int32_t reader_count = 0, reader_wait = 0;  // rwmutex
  int64_t counter = 0;         // waitgroup: the counter; sema: the semaphore's value
  uint32_t waiters = 0;        // waitgroup: Wait callers; cond: tickets not yet notified
  int64_t when = 0;            // timer, and a timer channel's timer: runtime nanotime it fires at (0: none)
  uint64_t timer = 0;          // chan: its timer (1.23+ timer channels), 0 for another channel
  int64_t fd = -1;             // fd: the descriptor number
  std::string_view why;        // unknown
};

// Lists of waiters shared by many goroutines (a channel's queues, a notifyList) are walked once each:
// 100,000 goroutines parked on one channel would otherwise walk its queue 100,000 times.
class WaitLists {
 public:
  // "receive", "send", or "" when the sudog is in neither queue of channel `chan`.
  Result<std::string_view> direction(const Memory& memory, uint64_t chan, uint64_t sudog, const WaitLayout& layout);
  // Whether goroutine `g` has a sudog in notifyList `list` (runtime/sema.go notifyListWait).
  Result<bool> in_notify_list(const Memory& memory, uint64_t list, uint64_t g, const WaitLayout& layout);

 private:
  struct Queues {
    std::unordered_set<uint64_t> receive, send;
  };
  std::unordered_map<uint64_t, Queues> by_chan_;
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> notify_gs_;  // notifyList -> its goroutines
};

// Words of one goroutine read ahead in a batch (WaitWords are read for many goroutines at once): g.waiting
// and its first sudog's c and waitlink, so that the common wait, one channel, costs no read of its own.
struct WaitWords {
  uint64_t g = 0;                        // whose
  uint64_t waiting = 0, c = 0, waitlink = 0;
  bool has_waiting = false, has_sudog = false;  // which of them were read
};

// The objects goroutine `g_addr` waits on (a select lists every channel), read from g.waiting and, where
// the runtime keeps the object only on the goroutine's stack, from the frames of `frames`. Empty when the
// goroutine waits on nothing goperf reads. Fails when the memory cannot be read. `reason` is the runtime's
// wait reason: a goroutine in "chan receive" ("chan send") has its one sudog in the channel's receive
// (send) queue until it is readied (chan.go chanrecv/chansend park with it); only a select's queues are
// walked to tell in which queue each of its sudogs is.
Result<std::vector<WaitObject>> read_wait_objects(const Memory& memory, uint64_t g_addr, std::string_view reason,
                                                  std::span<const WaitFrame> frames, const WaitLayout& layout,
                                                  WaitLists& lists, const WaitWords* ahead = nullptr);

}  // namespace goperf::unwind

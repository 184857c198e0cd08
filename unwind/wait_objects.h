// What a parked goroutine waits on, read from the runtime's memory: the sudogs of its `waiting` list
// (src/runtime/runtime2.go g.waiting, sudog; chan.go chanrecv/chansend, select.go selectgo set it while the
// goroutine is parked) and each sudog's channel (hchan: len, cap, closed; whether the sudog is in its
// receive or send queue). Semaphores (sync.Mutex, RWMutex, WaitGroup), sync.Cond, timers and netpoll are
// not read yet: a goroutine parked on them has an empty list.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "symbolize/result.h"

namespace goperf::unwind {

class Memory;

// Offsets measured from the DWARF of each toolchain (tests/fixtures/layouts, scripts/measure_layouts.sh).
struct WaitLayout {
  int go_minor = 0;
  uint32_t g_waiting = 0;
  uint32_t sudog_next = 0, sudog_waitlink = 0, sudog_c = 0;
  uint32_t hchan_qcount = 0, hchan_dataqsiz = 0, hchan_closed = 0, hchan_recvq = 0, hchan_sendq = 0;
};

// nullptr for a Go version whose layouts were not measured (the caller says so; it does not guess).
const WaitLayout* wait_layout_for(int go_minor);

struct WaitObject {
  std::string_view kind;       // "chan"
  uint64_t address = 0;        // the hchan
  uint64_t len = 0, cap = 0;
  bool closed = false;
  std::string_view direction;  // "receive", "send", or "" when the sudog is in neither queue
};

// Which queue of a channel holds a sudog: each channel's queues are walked once (100,000 goroutines
// parked on one channel would otherwise walk its queue 100,000 times).
class ChannelQueues {
 public:
  // "receive", "send", or "" when the sudog is in neither queue.
  Result<std::string_view> direction(const Memory& memory, uint64_t chan, uint64_t sudog, const WaitLayout& layout);

 private:
  struct Queues {
    std::unordered_set<uint64_t> receive, send;
  };
  std::unordered_map<uint64_t, Queues> by_chan_;
};

// The objects goroutine `g_addr` waits on (one per sudog: a select lists every channel). Empty when its
// waiting list is empty. Fails when the memory cannot be read.
Result<std::vector<WaitObject>> read_wait_objects(const Memory& memory, uint64_t g_addr, const WaitLayout& layout,
                                                  ChannelQueues& queues);

}  // namespace goperf::unwind

// What waiting goroutines wait on (`snapshot --waits`): each goroutine's objects as JSON ("waiting_on"),
// and a summary of the objects with the most waiters first. Reads through unwind/wait_objects.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "profiler/goroutine_dump.h"
#include "unwind/cached_memory.h"
#include "unwind/wait_objects.h"

namespace goperf::profiler {

class GoroutineWaits {
 public:
  // `memory` must be the target's (live or core): sudogs and channels are heap objects no snapshot copies.
  GoroutineWaits(const unwind::Memory& memory, int go_minor);
  // False when this Go version's layouts were not measured: nothing is read, and the summary says so.
  bool known() const { return layout_ != nullptr; }
  // Reads what `g` waits on, counts it for the summary, and returns `"waiting_on":[...],` for the
  // goroutine's JSON ("" for a goroutine that is not waiting).
  std::string add(const GoroutineDump& g);
  // `chan 0x.. (cap C, len L): N goroutines receive, M send` lines, most waiters first, then what was not read.
  std::string summary_text() const;

 private:
  struct Waiters {
    unwind::WaitObject object;
    size_t receive = 0, send = 0, other = 0;
  };
  unwind::CachedMemory memory_;  // sudogs and channels share pages: each page is read once
  unwind::ChannelQueues queues_;
  int go_minor_;
  const unwind::WaitLayout* layout_;
  std::map<uint64_t, Waiters> objects_;
  std::map<std::string, size_t> unread_;  // by status: waits of a kind goperf does not read yet
  size_t failed_ = 0;                     // goroutines whose sudogs could not be read
};

}  // namespace goperf::profiler

// What waiting goroutines wait on (`snapshot --waits`, `core --waits`): each goroutine's objects as JSON
// ("waiting_on"), and a summary of the objects with the most waiters first. Reads through unwind/wait_objects.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "profiler/dump/goroutine_dump.h"
#include "unwind/goroutine_lister.h"
#include "unwind/cached_memory.h"
#include "unwind/wait_objects.h"
#include "unwind/word_cache.h"

namespace goperf::profiler {

class GoroutineWaits {
 public:
  // `memory` must be the target's (live or core): sudogs and channels are heap objects no snapshot copies.
  // `now` is the runtime's clock (nanotime: CLOCK_MONOTONIC) when the target was stopped, 0 when unknown
  // (a core): timers then give the time they fire at, not the time left.
  GoroutineWaits(const unwind::Memory& memory, int go_minor, int64_t now = 0);
  // False when this Go version's layouts were not measured: nothing is read, and the summary says so.
  bool known() const { return layout_ != nullptr; }
  // Reads ahead, in a few batched reads of a live process, the words add() reads of every waiting
  // goroutine of `list` (g.waiting, its sudog, the sudog's channel): nothing per goroutine is a system call.
  void prefetch(const unwind::GoroutineList& list);
  // Reads what `g` waits on, counts it for the summary, and returns `"waiting_on":[...],` for the
  // goroutine's JSON ("" for a goroutine that is not waiting, and when `json` is false).
  std::string add(const GoroutineDump& g, bool json = true);
  // One line per object, most waiters first (`chan 0x.. (cap C, len L): N goroutines receive, M send`),
  // then the sleeps, then what was not read.
  std::string summary_text() const;

 private:
  struct Waiters {
    unwind::WaitObject object;
    size_t first = 0, second = 0, other = 0;  // chan: receive/send; rwmutex, fd: read/write; else: first
  };
  std::string object_json(const unwind::WaitObject& w) const;
  void count(const unwind::WaitObject& w);
  const unwind::WaitWords* words_ahead(uint64_t g);

  const unwind::ProcessMemory* process_;  // the live process (batched reads), or nullptr for a core
  unwind::CachedMemory memory_;  // sudogs and channels share pages: each page is read once
  unwind::WordCache words_;      // over memory_: the words prefetch() read ahead
  unwind::WaitLists lists_;
  int go_minor_;
  int64_t now_;
  const unwind::WaitLayout* layout_;
  std::vector<unwind::WaitFrame> frames_;  // reused for each goroutine
  std::vector<unwind::WaitWords> ahead_;   // prefetch(): the waiting goroutines, in list order
  size_t next_ahead_ = 0;                  // where add() looks first (goroutines come in list order)
  std::map<std::pair<std::string_view, uint64_t>, Waiters> objects_;
  size_t sleeping_ = 0;                     // goroutines in time.Sleep, each on its own timer
  int64_t sleep_min_ = 0, sleep_max_ = 0;   // their deadlines
  std::map<std::string, size_t> unread_;    // by status: waits of a kind goperf does not read
  size_t failed_ = 0;                       // goroutines whose sudogs could not be read
};

}  // namespace goperf::profiler

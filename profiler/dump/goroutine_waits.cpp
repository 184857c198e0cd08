// Per-goroutine wait objects as JSON and their summary.
#include "profiler/dump/goroutine_waits.h"

#include <algorithm>
#include <cstdio>

#include "profiler/json_string.h"
#include "unwind/goroutine_lister.h"
#include "unwind/process_memory.h"

namespace goperf::profiler {

namespace {

// sync/mutex.go (internal/sync/mutex.go from 1.24): the bits of Mutex.state.
constexpr uint32_t kMutexLocked = 1, kMutexStarving = 4, kMutexWaiterShift = 3;

std::string goroutines(size_t n) { return std::to_string(n) + (n == 1 ? " goroutine" : " goroutines"); }
// "1 goroutine waits", "5 goroutines wait".
std::string goroutines_wait(size_t n) { return goroutines(n) + (n == 1 ? " waits" : " wait"); }
std::string dec(int64_t v) { return std::to_string(v); }
std::string boolean(bool b) { return b ? "true" : "false"; }

// A duration as Go prints one, to the second ("1h2m3s", "59s", "-2s" for a deadline passed).
std::string duration(int64_t ns) {
  std::string sign = ns < 0 ? "-" : "";
  int64_t s = (ns < 0 ? -ns : ns) / 1000000000;
  std::string out;
  if (s >= 3600) out += dec(s / 3600) + "h";
  if (s >= 60) out += dec(s / 60 % 60) + "m";
  return sign + out + dec(s % 60) + "s";
}

std::string mutex_fields(uint32_t state) {
  return ",\"locked\":" + boolean(state & kMutexLocked) + ",\"starving\":" + boolean(state & kMutexStarving) +
         ",\"waiters\":" + dec(state >> kMutexWaiterShift) + ",\"holder\":\"unknown\"";
}

}  // namespace

GoroutineWaits::GoroutineWaits(const unwind::Memory& memory, int go_minor, int64_t now)
    : process_(dynamic_cast<const unwind::ProcessMemory*>(&memory)),
      memory_(&memory),
      words_(&memory_, process_),
      go_minor_(go_minor),
      now_(now),
      layout_(unwind::wait_layout_for(go_minor)) {}

void GoroutineWaits::prefetch(const unwind::GoroutineList& list) {
  if (layout_ == nullptr || process_ == nullptr) return;  // a core's memory is a mapped file: no system calls
  const unwind::WaitLayout& l = *layout_;
  ahead_.clear();
  std::vector<uint64_t> addrs;
  for (const auto& g : list.goroutines)
    if (g.base_status() == unwind::kGwaiting) {
      ahead_.push_back({.g = g.g_addr});
      addrs.push_back(g.g_addr + l.g_waiting);
    }
  std::vector<uint64_t> values(addrs.size());
  std::unique_ptr<bool[]> ok(new bool[addrs.size() * 2 + 1]);
  unwind::read_words(*process_, addrs, values, std::span<bool>(ok.get(), addrs.size()));
  std::vector<size_t> with_sudog;  // indexes into ahead_
  addrs.clear();
  for (size_t i = 0; i < ahead_.size(); ++i) {
    ahead_[i].has_waiting = ok[i];
    ahead_[i].waiting = values[i];
    if (!ok[i] || values[i] == 0) continue;
    with_sudog.push_back(i);
    addrs.push_back(values[i] + std::min(l.sudog_waitlink, l.sudog_c));  // ascending within the sudog
    addrs.push_back(values[i] + std::max(l.sudog_waitlink, l.sudog_c));
  }
  values.assign(addrs.size(), 0);
  unwind::read_words(*process_, addrs, values, std::span<bool>(ok.get(), addrs.size()));
  std::vector<uint64_t> chans;
  const bool c_first = l.sudog_c < l.sudog_waitlink;
  for (size_t k = 0; k < with_sudog.size(); ++k) {
    unwind::WaitWords& w = ahead_[with_sudog[k]];
    w.has_sudog = ok[2 * k] && ok[2 * k + 1];
    w.c = values[2 * k + (c_first ? 0 : 1)];
    w.waitlink = values[2 * k + (c_first ? 1 : 0)];
    if (w.has_sudog && w.c != 0 && (chans.empty() || chans.back() != w.c)) chans.push_back(w.c);
  }
  std::sort(chans.begin(), chans.end());
  chans.erase(std::unique(chans.begin(), chans.end()), chans.end());
  addrs.clear();
  for (uint64_t c : chans) {
    for (uint32_t field : {l.hchan_qcount, l.hchan_dataqsiz, l.hchan_closed, l.hchan_recvq, l.hchan_sendq})
      addrs.push_back(c + field);
    if (l.hchan_timer != unwind::WaitLayout::kNone) addrs.push_back(c + l.hchan_timer);
  }
  words_.prefetch(addrs);
  next_ahead_ = 0;
}

const unwind::WaitWords* GoroutineWaits::words_ahead(uint64_t g) {
  // Goroutines come in list order, some filtered out: look a little way ahead, never skip on a miss.
  constexpr size_t kLookAhead = 64;
  for (size_t i = next_ahead_; i < ahead_.size() && i < next_ahead_ + kLookAhead; ++i)
    if (ahead_[i].g == g) {
      next_ahead_ = i + 1;
      return &ahead_[i];
    }
  return nullptr;
}

std::string GoroutineWaits::object_json(const unwind::WaitObject& w) const {
  std::string out = "{\"kind\":" + json_string(w.kind);
  if (w.address != 0 || w.kind != "unknown") out += ",\"address\":\"" + hex_string(w.address) + "\"";
  if (w.kind == "chan") {
    out += ",\"len\":" + dec(static_cast<int64_t>(w.len)) + ",\"cap\":" + dec(static_cast<int64_t>(w.cap)) +
           ",\"closed\":" + boolean(w.closed) + ",\"direction\":" + json_string(w.direction);
  } else if (w.kind == "mutex") {
    out += mutex_fields(w.state);
  } else if (w.kind == "rwmutex") {
    out += ",\"direction\":" + json_string(w.direction) + mutex_fields(w.state) +
           ",\"reader_count\":" + dec(w.reader_count) + ",\"reader_wait\":" + dec(w.reader_wait);
  } else if (w.kind == "waitgroup") {
    out += ",\"counter\":" + dec(w.counter) + ",\"waiters\":" + dec(w.waiters);
  } else if (w.kind == "cond") {
    out += ",\"waiters\":" + dec(w.waiters);
  } else if (w.kind == "sema") {
    out += ",\"value\":" + dec(w.counter);
  } else if (w.kind == "fd") {
    out += ",\"fd\":" + dec(w.fd) + ",\"direction\":" + json_string(w.direction);
  } else if (w.kind == "unknown") {
    out += ",\"why\":" + json_string(w.why);
  }
  uint64_t timer = w.kind == "timer" ? w.address : w.timer;
  if (timer != 0 || w.kind == "timer") {
    if (w.kind != "timer") out += ",\"timer\":\"" + hex_string(timer) + "\"";
    out += ",\"when_ns\":" + dec(w.when);
    if (now_ != 0) out += ",\"remaining_ns\":" + dec(w.when - now_);
  }
  return out + "}";
}

void GoroutineWaits::count(const unwind::WaitObject& w) {
  if (w.kind == "timer") {
    sleep_min_ = sleeping_ ? std::min(sleep_min_, w.when) : w.when;
    sleep_max_ = sleeping_ ? std::max(sleep_max_, w.when) : w.when;
    ++sleeping_;
    return;
  }
  Waiters& n = objects_[{w.kind, w.address}];
  n.object = w;
  const bool first = w.direction == "receive" || w.direction == "read" || w.direction.empty();
  const bool second = w.direction == "send" || w.direction == "write";
  (w.kind == "chan" && w.direction.empty() ? n.other : first ? n.first : second ? n.second : n.other)++;
}

std::string GoroutineWaits::add(const GoroutineDump& g, bool json) {
  if ((g.status & ~uint32_t{unwind::kGscan}) != unwind::kGwaiting) return "";
  std::string status(g.status_text);
  if (layout_ == nullptr) {
    ++unread_[status];
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":\"the runtime's sudog and hchan layouts of go1." +
           std::to_string(go_minor_) + " were not measured\"}],";
  }
  frames_.clear();
  for (const auto& f : g.frames) frames_.push_back({f.function, f.sp, f.fp});
  auto objects =
      unwind::read_wait_objects(words_, g.g_addr, g.status_text, frames_, *layout_, lists_, words_ahead(g.g_addr));
  if (!objects) {
    ++failed_;
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":" + json_string(objects.error().message()) + "}],";
  }
  if (objects->empty()) {
    ++unread_[status];
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":" +
           json_string("goperf does not read what a goroutine in '" + status + "' waits on") + "}],";
  }
  for (const auto& w : *objects) count(w);
  if (!json) return "";
  std::string out = "\"waiting_on\":[";
  for (size_t i = 0; i < objects->size(); ++i) out += (i ? "," : "") + object_json((*objects)[i]);
  return out + "],";
}

std::string GoroutineWaits::summary_text() const {
  std::vector<const Waiters*> sorted;
  for (const auto& [key, w] : objects_) sorted.push_back(&w);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Waiters* a, const Waiters* b) {
    return a->first + a->second + a->other > b->first + b->second + b->other;
  });
  std::string out = "waits:\n";
  for (const Waiters* n : sorted) {
    const unwind::WaitObject& w = n->object;
    const std::string addr = hex_string(w.address);
    const size_t all = n->first + n->second + n->other;
    if (w.kind == "chan") {
      out += "chan " + addr + " (cap " + dec(static_cast<int64_t>(w.cap)) + ", len " +
             dec(static_cast<int64_t>(w.len)) + (w.closed ? ", closed" : "") +
             (w.timer && now_ ? ", timer fires in " + duration(w.when - now_) : "") + "): " + goroutines(n->first) +
             " receive, " + dec(static_cast<int64_t>(n->second)) + " send";
      if (n->other) out += ", " + dec(static_cast<int64_t>(n->other)) + " neither (being woken)";
    } else if (w.kind == "mutex") {
      out += "mutex " + addr + " (" + (w.state & kMutexLocked ? "locked" : "unlocked") +
             (w.state & kMutexStarving ? ", starving" : "") + ", " + dec(w.state >> kMutexWaiterShift) +
             " waiters, holder unknown): " + goroutines_wait(all);
    } else if (w.kind == "rwmutex") {
      out += "rwmutex " + addr + " (" + (w.state & kMutexLocked ? "write-locked" : "not write-locked") +
             ", reader count " + dec(w.reader_count) + ", holder unknown): " + goroutines_wait(n->first) + " to read, " + dec(static_cast<int64_t>(n->second)) + " to write";
    } else if (w.kind == "waitgroup") {
      out += "waitgroup " + addr + " (counter " + dec(w.counter) + ", " + dec(w.waiters) +
             " waiters): " + goroutines_wait(all);
    } else if (w.kind == "cond") {
      out += "cond " + addr + " (" + dec(w.waiters) + " not notified): " + goroutines_wait(all);
    } else if (w.kind == "sema") {
      out += "sema " + addr + " (value " + dec(w.counter) + "): " + goroutines_wait(all);
    } else if (w.kind == "fd") {
      out += "fd " + dec(w.fd) + " (pollDesc " + addr + "): " + goroutines_wait(n->first) + " to read, " +
             dec(static_cast<int64_t>(n->second)) + " to write";
    }
    out += "\n";
  }
  if (sleeping_) {
    out += "time.Sleep: " + goroutines(sleeping_) + ", each on its own timer";
    if (now_) out += ", firing in " + duration(sleep_min_ - now_) + " to " + duration(sleep_max_ - now_);
    out += "\n";
  }
  for (const auto& [status, n] : unread_)
    out += "not read: " + goroutines(n) + " [" + status + "]" +
           (layout_ ? " (goperf does not read what this wait is on)" : " (layouts of this Go version not measured)") +
           "\n";
  if (failed_) out += "unreadable: " + goroutines(failed_) + " (their sudogs could not be read)\n";
  return out;
}

}  // namespace goperf::profiler

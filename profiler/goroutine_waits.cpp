// Per-goroutine wait objects as JSON and their summary.
#include "profiler/goroutine_waits.h"

#include <algorithm>
#include <cstdio>

#include "profiler/json_string.h"
#include "unwind/goroutine_lister.h"

namespace goperf::profiler {

namespace {

std::string goroutines(size_t n) { return std::to_string(n) + (n == 1 ? " goroutine" : " goroutines"); }

}  // namespace

GoroutineWaits::GoroutineWaits(const unwind::Memory& memory, int go_minor)
    : memory_(&memory), go_minor_(go_minor), layout_(unwind::wait_layout_for(go_minor)) {}

std::string GoroutineWaits::add(const GoroutineDump& g) {
  if ((g.status & ~uint32_t{unwind::kGscan}) != unwind::kGwaiting) return "";
  std::string status(g.status_text);
  if (layout_ == nullptr) {
    ++unread_[status];
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":\"the runtime's sudog and hchan layouts of go1." +
           std::to_string(go_minor_) + " were not measured\"}],";
  }
  auto objects = unwind::read_wait_objects(memory_, g.g_addr, *layout_, queues_);
  if (!objects) {
    ++failed_;
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":" + json_string(objects.error().message()) + "}],";
  }
  if (objects->empty()) {
    ++unread_[status];
    return "\"waiting_on\":[{\"kind\":\"unknown\",\"why\":" +
           json_string("goperf reads channel waits only, not what a goroutine in '" + status + "' waits on") + "}],";
  }
  std::string out = "\"waiting_on\":[";
  for (size_t i = 0; i < objects->size(); ++i) {
    const auto& w = (*objects)[i];
    out += i ? ",{\"kind\":" : "{\"kind\":";
    out += json_string(w.kind) + ",\"address\":\"" + hex_string(w.address) + "\",\"len\":" + std::to_string(w.len) +
           ",\"cap\":" + std::to_string(w.cap) + ",\"closed\":" + (w.closed ? "true" : "false") +
           ",\"direction\":" + json_string(w.direction) + "}";
    Waiters& n = objects_[w.address];
    n.object = w;
    (w.direction == "receive" ? n.receive : w.direction == "send" ? n.send : n.other)++;
  }
  return out + "],";
}

std::string GoroutineWaits::summary_text() const {
  std::vector<const Waiters*> sorted;
  for (const auto& [addr, w] : objects_) sorted.push_back(&w);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Waiters* a, const Waiters* b) {
    return a->receive + a->send + a->other > b->receive + b->send + b->other;
  });
  std::string out = "waits:\n";
  for (const Waiters* w : sorted) {
    out += "chan " + hex_string(w->object.address) + " (cap " + std::to_string(w->object.cap) + ", len " +
           std::to_string(w->object.len) + (w->object.closed ? ", closed" : "") + "): " +
           goroutines(w->receive) + " receive, " + std::to_string(w->send) + " send";
    if (w->other) out += ", " + std::to_string(w->other) + " neither (being woken)";
    out += "\n";
  }
  for (const auto& [status, n] : unread_)
    out += "not read: " + goroutines(n) + " [" + status + "]" +
           (layout_ ? " (goperf reads channel waits only)" : " (layouts of this Go version not measured)") + "\n";
  if (failed_) out += "unreadable: " + goroutines(failed_) + " (their sudogs could not be read)\n";
  return out;
}

}  // namespace goperf::profiler

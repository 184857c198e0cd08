// GoroutineSampler: list the goroutines, take each one's stack from unwind::GoroutineStacks, and add
// it to the profile with its state, id and pprof labels.
#include "profiler/record/goroutine_sampler.h"

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/label_reader.h"
#include "flamegraph/profile.h"
#include "profiler/record/sample_symbolizer.h"
#include "unwind/go_target.h"
#include "unwind/goroutine_lister.h"
#include "unwind/goroutine_scan.h"
#include "unwind/settled_g_read.h"

namespace goperf::profiler {
namespace {

constexpr size_t kMaxGoLabels = 16;
constexpr size_t kMaxParked = 4;  // states kept per goroutine besides its current one

}  // namespace

struct GoroutineSampler::Impl {
  uint32_t pid = 0;
  SampleSymbolizer* sink = nullptr;
  std::unique_ptr<unwind::GoTarget> target;
  std::unique_ptr<unwind::GoroutineScan> scan;
  std::unique_ptr<unwind::GoroutineStacks> stacks;
  std::unique_ptr<bpf::LabelReader> labels;
  std::string note;
  GoroutineSamplerStats stats;

  std::vector<unwind::MInfo> ms;  // read at most once per tick, when a goroutine in a syscall is walked
  bool ms_read = false;
  std::unordered_map<uint64_t, bool> system_starts;  // by startpc
  // Per allgs entry: the sample its g is adding to, kept until its stack or goroutine changes (then
  // handed to the profile), so that an unchanged goroutine costs nothing per tick. A change of state or
  // labels on the same stack parks the current sample (a sleeping goroutine woken and asleep again at
  // the next tick goes back to its parked sample instead of adding one to the profile's index each time).
  struct Parked {
    uint32_t status = 0;
    uint8_t reason = 0;
    uint64_t labels = 0;
    std::string state;
    int64_t count = 0, wall = 0;
  };
  struct Track {
    bool live = false;    // describes the g's head as last read (GoroutineScan::changed is against that)
    bool system = false;  // a system goroutine: no samples
    unwind::GHead head;   // as when its stack was last taken (walked or reused)
    uint64_t stack_key = 0;  // 1: on a thread, 2: changed while read, else 2 + the stack's version
    uint64_t goid = 0, labels = 0;
    uint32_t status = 0;
    uint8_t reason = 0;
    std::string state;
    std::vector<uint32_t> locations;
    int64_t count = 0, wall = 0;  // pending, up to tick `upto` (of ticks_ok)
    std::vector<Parked> parked;   // other states on the same stack, pending
    // Open: counted at every tick the scan does not report it (unchanged), without being looked at: its
    // pending count is brought up to date (settle) when it is looked at again or flushed.
    enum class Open : uint8_t { kNo, kSample, kSystem } open = Open::kNo;
    uint64_t upto = 0;
    int64_t upto_wall = 0;
  };
  std::vector<Track> tracks;  // by allgs index (GoroutineScan's)
  uint64_t ticks_ok = 0;      // ticks whose scan succeeded
  int64_t wall_ok = 0;        // the wall time they stand for
  uint64_t open_samples = 0, open_system = 0;  // tracks open as a sample / as a system goroutine
  uint64_t same_stack = 0;    // samples whose stack was known from the head alone, not asked of `stacks`
  uint32_t on_thread_loc = 0, changed_loc = 0;
  std::array<flamegraph::Label, 2 + kMaxGoLabels> label_buf;

  bool is_system(uint64_t startpc) {
    auto [it, fresh] = system_starts.try_emplace(startpc);
    if (fresh) it->second = target->is_system_goroutine(startpc);
    return it->second;
  }

  // Adds to t's pending count the ticks since t.upto up to tick `tick` (wall: `wall`), at each of which
  // it was unchanged.
  static void settle(Track& t, uint64_t tick, int64_t wall) {
    if (t.open == Track::Open::kSample) {
      t.count += static_cast<int64_t>(tick - t.upto);
      t.wall += wall - t.upto_wall;
    }
    t.upto = tick;
    t.upto_wall = wall;
  }

  void set_open(Track& t, Track::Open o) {
    if (t.open == Track::Open::kSample) --open_samples;
    if (t.open == Track::Open::kSystem) --open_system;
    t.open = o;
    if (o == Track::Open::kSample) ++open_samples;
    if (o == Track::Open::kSystem) ++open_system;
  }

  void emit(const Track& t, std::string_view state, uint64_t label_set, int64_t count, int64_t wall) {
    if (count == 0) return;
    size_t n = 0;
    auto put = [&](std::string_view key, std::string_view str, int64_t num) {
      auto& l = label_buf[n++];
      l.key.assign(key);
      l.str.assign(str);
      l.num = num;
    };
    put("state", state, 0);
    put("goroutine", {}, static_cast<int64_t>(t.goid));
    if (label_set != 0) {
      for (const auto& [key, value] : labels->get(pid, label_set, target->memory())) {
        if (n == label_buf.size()) break;
        put(key, value, 0);
      }
    }
    const std::array<int64_t, 2> values{count, wall};
    sink->add_sample(t.locations, values, std::span<const flamegraph::Label>(label_buf.data(), n));
  }

  // Hands t's pending samples (current and parked) to the profile.
  void flush(Track& t) {
    emit(t, t.state, t.labels, t.count, t.wall);
    t.count = t.wall = 0;
    for (const auto& p : t.parked) emit(t, p.state, p.labels, p.count, p.wall);
    t.parked.clear();
  }

  // The same stack in another state or with other labels: the current sample is parked (or handed
  // over when kMaxParked are), and a parked one of the new state becomes current again.
  void switch_state(Track& t, uint32_t status, uint8_t reason, uint64_t label_set, std::string_view state) {
    auto find = [&](uint32_t st, uint8_t r, uint64_t ls) {
      for (size_t i = 0; i < t.parked.size(); ++i)
        if (t.parked[i].status == st && t.parked[i].reason == r && t.parked[i].labels == ls) return i;
      return t.parked.size();
    };
    if (t.count != 0) {
      const size_t i = find(t.status, t.reason, t.labels);
      if (i < t.parked.size()) {
        t.parked[i].count += t.count;
        t.parked[i].wall += t.wall;
      } else if (t.parked.size() < kMaxParked) {
        t.parked.push_back({t.status, t.reason, t.labels, t.state, t.count, t.wall});
      } else {
        emit(t, t.state, t.labels, t.count, t.wall);
      }
    }
    t.status = status;
    t.reason = reason;
    t.labels = label_set;
    t.state.assign(state);
    t.count = t.wall = 0;
    if (const size_t i = find(status, reason, label_set); i < t.parked.size()) {
      t.count = t.parked[i].count;
      t.wall = t.parked[i].wall;
      t.parked[i] = std::move(t.parked.back());
      t.parked.pop_back();
    }
    // Decoded (and cached) now, while the pointer is the goroutine's: a label set dropped by the
    // goroutine may be freed and its memory reused before the sample is handed over.
    if (label_set != 0) labels->get(pid, label_set, target->memory());
  }

  const unwind::MInfo* m_of(const unwind::GoroutineInfo& g) {
    if (g.m == 0 || g.base_status() != unwind::kGsyscall) return nullptr;  // its VDSO state: syscalls only
    if (!ms_read) {
      ms_read = true;
      auto all = target->lister().ms(target->memory());
      if (all) ms = std::move(*all);
      else ms.clear();
    }
    for (const auto& m : ms)
      if (m.addr == g.m) return &m;
    return nullptr;
  }

  void set_locations(Track& t, uint64_t key, const unwind::GoroutineInfo& g,
                     std::span<const unwind::PhysicalFrame> frames) {
    t.locations.clear();
    if (key == 1) {
      // Running: what the runtime's own traceback says of a goroutine on another thread, above the
      // one frame known without its registers, the function it was started with (the root of every
      // goroutine's stack in runtime/pprof's goroutine profile and fgprof's).
      t.locations.push_back(on_thread_loc);
      unwind::PhysicalFrame start;
      start.pc = g.startpc;
      start.exact_pc = true;
      start.is_go = true;
      if (g.startpc) sink->append_locations(pid, std::span<const unwind::PhysicalFrame>(&start, 1), t.locations);
    } else if (key == 2) {
      t.locations.push_back(changed_loc);
    } else {
      sink->append_locations(pid, frames, t.locations);
      if (t.locations.empty()) t.locations.push_back(changed_loc);
    }
  }

  void sample(const unwind::GoroutineInfo& g, Track& t, int64_t weight_ns) {
    auto s = stacks->stack(g, m_of(g));
    const uint64_t key = s.source == unwind::GoroutineStack::Source::kOnThread  ? 1
                         : s.source == unwind::GoroutineStack::Source::kChanged ? 2
                                                                                : 2 + s.version;
    if (t.stack_key != key || t.goid != g.goid) {
      flush(t);
      set_locations(t, key, g, s.frames);
      t.stack_key = key;
      t.goid = g.goid;
    }
    if (t.count == 0 || t.status != g.base_status() || t.reason != g.wait_reason_index || t.labels != g.labels)
      switch_state(t, g.base_status(), g.wait_reason_index, g.labels, g.status_text());
    ++t.count;
    t.wall += weight_ns;
    ++stats.samples;
  }

  // The same goroutine with the same saved context in another state or with other labels (a waiting
  // goroutine made runnable, ...): the same stack, from the head alone.
  void restate(Track& t, const unwind::GHead& h, int64_t weight_ns) {
    if (t.count == 0 || t.status != h.base_status() || t.reason != h.wait_reason || t.labels != h.labels)
      switch_state(t, h.base_status(), h.wait_reason, h.labels,
                   unwind::g_status_text(h.status, h.wait_reason, target->lister().wait_reason(h.wait_reason)));
    ++t.count;
    t.wall += weight_ns;
    ++stats.samples;
    ++same_stack;
  }

  static bool off_thread(uint32_t status) {
    return status == unwind::kGrunnable || status == unwind::kGwaiting || status == unwind::kGpreempted;
  }

  void flush_all() {
    for (auto& t : tracks) {
      settle(t, ticks_ok, wall_ok);
      flush(t);
    }
  }

  // A g whose head is as at the previous tick is the same sample again: it is open, and counted without
  // being looked at (GoroutineScan::to_look_at leaves it out). Others (new, changed, unreadable, running)
  // are looked at: restated from the head when only their state or labels changed, else read whole and
  // walked or reused by GoroutineStacks.
  Status tick(int64_t weight_ns) {
    ++stats.ticks;
    if (auto st = scan->scan(); !st) {
      ++stats.failed_ticks;
      return st;
    }
    ms_read = false;
    if (tracks.size() < scan->size()) tracks.resize(scan->size());
    const uint64_t before = ticks_ok;
    const int64_t before_wall = wall_ok;
    ++ticks_ok;
    wall_ok += weight_ns;
    // Every open track is one more sample (or system goroutine) at this tick; those looked at below
    // are taken back out first.
    stats.samples += open_samples;
    same_stack += open_samples;
    stats.system += open_system;
    for (uint32_t i : scan->to_look_at()) {
      Track& t = tracks[i];
      settle(t, before, before_wall);
      if (t.open == Track::Open::kSample) --stats.samples, --same_stack;
      if (t.open == Track::Open::kSystem) --stats.system;
      set_open(t, Track::Open::kNo);
      t.upto = ticks_ok;
      t.upto_wall = wall_ok;
      if (!look_at(i, t, weight_ns)) scan->forget(i);  // not usable as read: looked at again at the next tick
      // (An unreadable g is reported again by the next scan: it stays closed.)
      if (t.live && scan->readable(i)) set_open(t, t.system ? Track::Open::kSystem : Track::Open::kSample);
    }
    stacks->end_tick();
    return {};
  }

  // One g the scan reports. False when its head could not be used (to be looked at again next tick).
  bool look_at(uint32_t i, Track& t, int64_t weight_ns) {
    if (!scan->readable(i)) return true;  // (the scan reports it again)
    const unwind::GHead& h = scan->head(i);
    if (h.dead()) {
      t.live = false;
      return true;  // nothing until it is reused (a new goid and status: a change)
    }
    if (t.live && !t.system && t.stack_key > 2 && off_thread(h.base_status()) && h.same_context(t.head)) {
      restate(t, h, weight_ns);
      return true;
    }
    t.live = false;
    // Read until two reads agree (settled_g_read.h): one read of a g the runtime rewrites as it is read can
    // mix two states (an exiting goroutine showed running without its labels).
    auto [g, unsettled] = unwind::read_settled_g(target->lister(), target->memory(), scan->g_addr(i));
    if (unsettled) ++stats.unsettled;
    if (!g || g->is_dead()) return false;
    // The g read whole must still be the head read in the scan; else it is read again next tick.
    const bool same = unwind::head_of(*g).same_as(h);
    t.system = is_system(g->startpc);
    if (t.system) {
      flush(t);
      ++stats.system;
    } else {
      sample(*g, t, weight_ns);
    }
    // A stack dropped as changed while read is tried again at the next tick, not counted on.
    t.live = same && (t.system || t.stack_key != 2);
    t.head = h;
    return t.live;
  }
};

GoroutineSampler::GoroutineSampler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GoroutineSampler::~GoroutineSampler() = default;

Result<std::unique_ptr<GoroutineSampler>> GoroutineSampler::open(uint32_t pid, SampleSymbolizer& sink) {
  auto impl = std::make_unique<Impl>();
  impl->pid = pid;
  impl->sink = &sink;
  auto target = unwind::GoTarget::open_process(static_cast<pid_t>(pid));
  if (!target) return std::move(target).error();
  impl->target = std::move(*target);
  const unwind::GoTarget& t = *impl->target;
  impl->note = t.layout_note();
  impl->scan = std::make_unique<unwind::GoroutineScan>(t.memory(), t.layout(), t.globals(), t.bias());
  impl->stacks = std::make_unique<unwind::GoroutineStacks>(t.memory(), *t.space(), t.lister());
  impl->labels = std::make_unique<bpf::LabelReader>(t.go_minor());
  impl->on_thread_loc = sink.named_location("[goroutine running on other thread; stack unavailable]");
  impl->changed_loc = sink.named_location("[stack changed while read]");
  return std::unique_ptr<GoroutineSampler>(new GoroutineSampler(std::move(impl)));
}

Status GoroutineSampler::tick(int64_t weight_ns) { return impl_->tick(weight_ns); }
void GoroutineSampler::flush() { impl_->flush_all(); }
const std::string& GoroutineSampler::note() const { return impl_->note; }
void GoroutineSampler::set_reuse(bool on) { impl_->stacks->set_reuse(on); }

GoroutineSamplerStats GoroutineSampler::stats() const {
  GoroutineSamplerStats s = impl_->stats;
  s.stacks = impl_->stacks->stats();
  s.stacks.reused += impl_->same_stack;
  return s;
}

}  // namespace goperf::profiler

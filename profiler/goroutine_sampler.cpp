// GoroutineSampler: list the goroutines, take each one's stack from unwind::GoroutineStacks, and add
// it to the profile with its state, id and pprof labels.
#include "profiler/goroutine_sampler.h"

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/label_reader.h"
#include "flamegraph/profile.h"
#include "profiler/sample_symbolizer.h"
#include "unwind/go_target.h"
#include "unwind/goroutine_lister.h"
#include "unwind/goroutine_stacks.h"

namespace goperf::profiler {
namespace {

constexpr size_t kMaxGoLabels = 16;

}  // namespace

struct GoroutineSampler::Impl {
  uint32_t pid = 0;
  SampleSymbolizer* sink = nullptr;
  std::unique_ptr<unwind::GoTarget> target;
  std::unique_ptr<unwind::GoroutineStacks> stacks;
  std::unique_ptr<bpf::LabelReader> labels;
  std::string note;
  GoroutineSamplerStats stats;

  unwind::GoroutineList list;
  std::unordered_map<uint64_t, const unwind::MInfo*> ms;
  std::unordered_map<uint64_t, bool> system_starts;  // by startpc
  // Per g: the sample it is adding to, kept until its stack, state, goroutine or labels change (then
  // handed to the profile), so that an unchanged goroutine costs a counter per tick.
  struct Track {
    uint64_t stack_key = 0;  // 1: on a thread, 2: changed while read, else 2 + the stack's version
    uint64_t goid = 0, labels = 0;
    uint32_t status = 0;
    uint8_t reason = 0;
    std::string state;
    std::vector<uint32_t> locations;
    int64_t count = 0, wall = 0;
  };
  std::unordered_map<uint64_t, Track> tracks;  // by g address
  uint32_t on_thread_loc = 0, changed_loc = 0;
  std::array<flamegraph::Label, 2 + kMaxGoLabels> label_buf;

  bool is_system(uint64_t startpc) {
    auto [it, fresh] = system_starts.try_emplace(startpc);
    if (fresh) it->second = target->is_system_goroutine(startpc);
    return it->second;
  }

  void flush(Track& t) {
    if (t.count == 0) return;
    size_t n = 0;
    auto put = [&](std::string_view key, std::string_view str, int64_t num) {
      auto& l = label_buf[n++];
      l.key.assign(key);
      l.str.assign(str);
      l.num = num;
    };
    put("state", t.state, 0);
    put("goroutine", {}, static_cast<int64_t>(t.goid));
    if (t.labels != 0) {
      for (const auto& [key, value] : labels->get(pid, t.labels, target->memory())) {
        if (n == label_buf.size()) break;
        put(key, value, 0);
      }
    }
    const std::array<int64_t, 2> values{t.count, t.wall};
    sink->add_sample(t.locations, values, std::span<const flamegraph::Label>(label_buf.data(), n));
    t.count = t.wall = 0;
  }

  void sample(const unwind::GoroutineInfo& g, int64_t weight_ns) {
    auto mi = g.m ? ms.find(g.m) : ms.end();
    auto s = stacks->stack(g, mi != ms.end() ? mi->second : nullptr);
    const uint64_t key = s.source == unwind::GoroutineStack::Source::kOnThread  ? 1
                         : s.source == unwind::GoroutineStack::Source::kChanged ? 2
                                                                                : 2 + s.version;
    Track& t = tracks[g.g_addr];
    if (t.count == 0 || t.stack_key != key || t.goid != g.goid || t.status != g.base_status() ||
        t.reason != g.wait_reason_index || t.labels != g.labels) {
      flush(t);
      if (t.stack_key != key) {
        t.locations.clear();
        if (key == 1) {
          t.locations.push_back(on_thread_loc);
        } else if (key == 2) {
          t.locations.push_back(changed_loc);
        } else {
          sink->append_locations(pid, s.frames, t.locations);
          if (t.locations.empty()) t.locations.push_back(changed_loc);
        }
      }
      t.stack_key = key;
      t.goid = g.goid;
      t.status = g.base_status();
      t.reason = g.wait_reason_index;
      t.labels = g.labels;
      t.state.assign(g.status_text());
    }
    ++t.count;
    t.wall += weight_ns;
    ++stats.samples;
  }

  void flush_all() {
    for (auto& [addr, t] : tracks) flush(t);
  }

  Status tick(int64_t weight_ns) {
    ++stats.ticks;
    if (auto st = target->lister().list_into(target->memory(), list); !st) {
      ++stats.failed_ticks;
      return st;
    }
    ms.clear();
    for (const auto& m : list.ms) ms[m.addr] = &m;
    for (const auto& g : list.goroutines) {
      if (is_system(g.startpc)) {
        ++stats.system;
        continue;
      }
      sample(g, weight_ns);
    }
    stacks->end_tick();
    return {};
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
  impl->stacks = std::make_unique<unwind::GoroutineStacks>(t.memory(), *t.space(), t.lister());
  impl->labels = std::make_unique<bpf::LabelReader>(t.go_minor());
  impl->on_thread_loc = sink.named_location("[on a thread: stack not read]");
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
  return s;
}

}  // namespace goperf::profiler

// Raw samples -> Profile. Per process: an AddressSpace (re-read from /proc/PID/maps when a pc falls in
// no known mapping, at most once a second), a pc -> location cache, and its unwind::SampleUnwinder (the walk
// and every continuation onto another stack live there).
#include "profiler/record/sample_symbolizer.h"

#include <sys/auxv.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "flamegraph/frame_kind.h"
#include "flamegraph/profile_builder.h"
#include "profiler/record/record_kernel_symbols.h"
#include "symbolize/elf_file.h"
#include "symbolize/frame.h"
#include "symbolize/module.h"
#include "symbolize/build_info.h"
#include "unwind/address_space.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/go_target.h"
#include "unwind/mappings.h"
#include "unwind/pc_info_cache.h"
#include "unwind/process_memory.h"
#include "unwind/sample_unwinder.h"

namespace goperf::profiler {
namespace {

constexpr size_t kMaxFrames = 512;
// How far above the sampled copy a walk may read the live stack (StackWindowMemory::set_live_tail).
constexpr uint64_t kLiveTailBytes = 1 << 20;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The vdso is the same image in every process of this kernel: name its functions from our own copy.
std::shared_ptr<const symbolize::Module> open_own_vdso(uint64_t* link_base) {
  auto base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return nullptr;
  auto maps = unwind::Mappings::read_proc(getpid());
  if (!maps) return nullptr;
  const unwind::Mapping* m = maps->find(base);
  if (m == nullptr) return nullptr;
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m->start), m->end - m->start);
  auto elf = symbolize::ElfFile::from_bytes(bytes, "[vdso]");
  if (!elf) return nullptr;
  uint64_t lowest = UINT64_MAX;
  for (const auto& seg : (*elf)->segments()) {
    if (seg.type == 1 /* PT_LOAD */ && seg.vaddr < lowest) lowest = seg.vaddr;
  }
  *link_base = lowest == UINT64_MAX ? 0 : lowest;
  auto module = symbolize::Module::from_elf(*elf);
  if (!module) return nullptr;
  return *module;
}

}  // namespace

// Goroutine pprof labels kept per sample (runtime/pprof sets no limit; more than this is unusual).
constexpr size_t kMaxGoLabels = 16;

struct SampleSymbolizer::Impl {
  struct Process {
    uint32_t pid = 0;
    std::unique_ptr<unwind::AddressSpace> space;
    std::unordered_map<uint64_t, uint32_t> locations;  // (pc << 1 | exact) -> location index
    std::unordered_map<const unwind::Mapping*, int32_t> mappings;
    int64_t last_refresh_ns = 0;
    std::unique_ptr<unwind::ProcessMemory> live;  // the goroutine stack behind a cgo call
    unwind::SampleUnwinder unwinder;              // walks and continues this process's samples
    const unwind::GoRuntimeLayout* layout = nullptr;  // for m.curg behind a system-stack sample
    bool layout_tried = false;
    // The walker's per-pc lookups (function, pcsp) of this address space: cleared when it is re-read.
    std::unique_ptr<unwind::PcInfoCache> walker_cache = std::make_unique<unwind::PcInfoCache>();
    // In front of `locations`: the frames of a recording repeat, a direct-mapped slot answers most.
    struct LocationSlot {
      uint64_t key = 0;  // (pc << 1 | exact) + 1; 0: empty
      uint32_t location = 0;
      bool unknown = false;  // the location has no lines
    };
    std::unique_ptr<std::array<LocationSlot, 4096>> location_slots = std::make_unique<std::array<LocationSlot, 4096>>();
    unwind::PcInfoCache* walker_pc_cache(bool enabled) { return enabled ? walker_cache.get() : nullptr; }
  };

  SampleSymbolizerOptions options;
  flamegraph::ProfileBuilder builder;
  std::unordered_map<uint32_t, Process> processes;
  std::optional<bool> kernel_named;  // kallsyms shows addresses: name kernel frames in finish()
  std::unordered_map<uint64_t, uint32_t> kernel_locations;
  std::vector<std::pair<uint64_t, uint32_t>> unnamed_kernel;  // (pc, location) to name in finish()
  std::optional<uint32_t> truncated_location;
  std::optional<uint32_t> gap_location;  // flamegraph::kGapFrame
  std::shared_ptr<const symbolize::Module> vdso;
  uint64_t vdso_link_base = 0;
  bool vdso_tried = false;
  SymbolizerStats stats;
  std::vector<symbolize::Frame> frames;
  std::vector<flamegraph::Line> lines;
  std::vector<uint32_t> stack;
  std::array<unwind::PhysicalFrame, kMaxFrames> physical;
  std::array<flamegraph::Label, 3 + kMaxGoLabels> label_buf;  // the current sample's labels

  static std::vector<flamegraph::ValueType> sample_types(const SampleSymbolizerOptions& o) {
    if (o.goroutines) return {{"goroutines", "count"}, {"wall", "nanoseconds"}};
    if (o.time_based) return {{"samples", "count"}, {"cpu", "nanoseconds"}};
    return {{"samples", "count"}, {o.event_name, "count"}};
  }

  explicit Impl(SampleSymbolizerOptions o)
      : options(std::move(o)),
        builder(sample_types(options),
                options.goroutines   ? flamegraph::ValueType{"wall", "nanoseconds"}
                : options.time_based ? flamegraph::ValueType{"cpu", "nanoseconds"}
                                     : flamegraph::ValueType{options.event_name, "count"},
                static_cast<int64_t>(options.period)) {
    for (uint32_t pid : options.pids) process(pid);
  }

  Process& process(uint32_t pid) {
    auto [it, inserted] = processes.try_emplace(pid);
    Process& p = it->second;
    if (inserted) {
      p.pid = pid;
      p.live = std::make_unique<unwind::ProcessMemory>(static_cast<pid_t>(pid));
      refresh(p);
    }
    return p;
  }

  void refresh(Process& p) {
    p.last_refresh_ns = steady_ns();
    auto space = unwind::AddressSpace::for_process(static_cast<pid_t>(p.pid));
    if (!space) return;  // gone: keep what we had
    // Locations already made stay valid (they hold runtime addresses); mapping indexes are re-made.
    p.mappings.clear();
    p.walker_cache->clear();
    if (p.space) (*space)->reuse_modules(*p.space);
    p.space = std::move(*space);
    // Open the files now (pclntab and symbols), not while the first samples pile up, and while the
    // process lives: its files are reached through it (unwind/mapped_file.h).
    (void)p.space->main_module();
    p.space->open_executable_files();
  }

  int32_t mapping_for(Process& p, const unwind::Mapping* m, const symbolize::Module* module) {
    auto it = p.mappings.find(m);
    if (it != p.mappings.end()) return it->second;
    flamegraph::Mapping fm;
    fm.start = m->start;
    fm.limit = m->end;
    fm.offset = m->offset;
    fm.filename = m->display_path();  // the name the user knows; the build id says which build it was
    if (module != nullptr) {
      fm.build_id = module->elf().gnu_build_id();
      if (fm.build_id.empty()) fm.build_id = module->elf().go_build_id();
      fm.has_functions = true;
      fm.has_filenames = module->is_go();
      fm.has_line_numbers = module->is_go();
      fm.has_inline_frames = module->is_go();
    }
    int32_t index = builder.add_mapping(fm);
    p.mappings.emplace(m, index);
    return index;
  }

  static size_t location_slot(uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 52); }

  // The location of a frame, and whether it has no name (counted in stats.unknown_frames).
  std::pair<uint32_t, bool> frame_location(Process& p, uint64_t pc, bool exact) {
    uint64_t key = ((pc << 1) | (exact ? 1 : 0)) + 1;
    auto& slot = (*p.location_slots)[location_slot(key)];
    if (slot.key == key) return {slot.location, slot.unknown};
    uint32_t loc = user_location(p, pc, exact);
    bool unknown = builder.profile().locations[loc].lines.empty();
    if (p.locations.count(key - 1) != 0) slot = {key, loc, unknown};  // only what the map keeps
    return {loc, unknown};
  }

  uint32_t user_location(Process& p, uint64_t pc, bool exact) {
    uint64_t key = (pc << 1) | (exact ? 1 : 0);
    if (auto it = p.locations.find(key); it != p.locations.end()) return it->second;
    ++stats.pc_cache_misses;
    frames.clear();
    int32_t mapping = -1;
    std::optional<unwind::ModuleRef> ref;
    const unwind::Mapping* m = nullptr;
    if (p.space) {
      ref = p.space->find(pc);
      m = p.space->mappings().find(pc);
      // A pc in no mapping: a library mapped since the maps were read (a cgo program's ld.so runs
      // after exec). Re-read them, at most every 50 ms.
      if (m == nullptr && steady_ns() - p.last_refresh_ns > 50000000) {
        refresh(p);  // a library loaded since we read the maps
        if (p.space) {
          ref = p.space->find(pc);
          m = p.space->mappings().find(pc);
        }
      }
    }
    if (ref && ref->module != nullptr) {
      ref->module->symbolize(ref->link_pc, !exact, frames);
    } else if (m != nullptr && m->executable && m->file_backed()) {
      note_unusable(p, *m);
    } else if (m != nullptr && m->path == "[vdso]") {
      load_vdso();
      if (vdso) vdso->symbolize(pc - m->start + vdso_link_base, !exact, frames);
    }
    if (m != nullptr) mapping = mapping_for(p, m, ref ? ref->module : nullptr);
    lines.clear();
    bool known = false;
    for (const auto& f : frames) {
      if (!f.known()) continue;
      known = true;
      uint32_t fn = builder.add_function(f.function, f.function, f.file, f.start_line);
      lines.push_back({fn, f.line});
    }
    uint32_t loc;
    if (known) {
      loc = builder.add_location(pc, mapping, std::span<const flamegraph::Line>(lines));
    } else {
      // Unnamed: keep the address so the profile can be symbolized again later.
      loc = builder.add_location(pc, mapping, std::span<const flamegraph::Line>());
    }
    if (m != nullptr) p.locations.emplace(key, loc);  // else retry once the maps are re-read
    return loc;
  }

  // A file whose code was sampled but could not be used (unwind/mapped_file.h): said once per file.
  void note_unusable(Process& p, const unwind::Mapping& m) {
    auto error = p.space->open_error(m);
    if (!error) return;
    const std::string& why = error->message();
    if (std::find(stats.unusable_files.begin(), stats.unusable_files.end(), why) == stats.unusable_files.end())
      stats.unusable_files.push_back(why);
  }

  const unwind::GoRuntimeLayout* layout_of(Process& p) {
    if (!p.layout_tried && p.space && p.live) {
      p.layout_tried = true;
      // The layout checked against the process's own goroutines, as every reader of a Go target takes it.
      auto go = p.space->go_module();
      if (go) {
        auto target = unwind::GoTarget::open(*p.live, *go->module, go->bias, "process " + std::to_string(p.pid));
        if (target) p.layout = &(*target)->layout();
      }
    }
    return p.layout;
  }

  void load_vdso() {
    if (vdso_tried) return;
    vdso_tried = true;
    vdso = open_own_vdso(&vdso_link_base);
  }

  // Kernel frames are named once, at the end (name_kernel_frames): reading /proc/kallsyms costs
  // ~80 ms of CPU, which would otherwise be taken while the target runs. Until then a kernel pc is a
  // location of its own (its address, no lines).
  uint32_t kernel_location(uint64_t pc) {
    if (auto it = kernel_locations.find(pc); it != kernel_locations.end()) return it->second;
    if (!kernel_named) kernel_named = options.kernel_symbols && KernelSymbols::addresses_visible();
    uint32_t loc;
    if (*kernel_named) {
      loc = builder.add_location(pc, -1, std::span<const flamegraph::Line>());
      unnamed_kernel.emplace_back(pc, loc);
    } else {
      loc = builder.add_named_location("[kernel]");
    }
    kernel_locations.emplace(pc, loc);
    return loc;
  }

  void count_window_use(const unwind::SampleWalk& walk) {
    if (walk.window.reason == unwind::StopReason::kUnreadable) {
      ++stats.window_cut;
      return;
    }
    if (!walk.window.complete()) return;
    size_t bucket = 0;
    while (bucket + 1 < stats.window_used.size() && walk.window_used > (512ULL << bucket)) ++bucket;
    ++stats.window_used[bucket];
  }

  // Kernel locations get their function and keep their address, under one "[kernel]" mapping (as
  // perf's [kernel.kallsyms]): readers tell kernel frames by it, and pprof leaves "[...]" mappings
  // unsymbolized (profile.Mapping.Unsymbolizable).
  void name_kernel_frames() {
    if (unnamed_kernel.empty()) return;
    KernelSymbols symbols("/proc/kallsyms");
    flamegraph::Mapping kernel;
    kernel.filename = "[kernel]";
    kernel.start = UINT64_MAX;
    kernel.has_functions = symbols.readable();
    for (auto [pc, loc] : unnamed_kernel) {
      kernel.start = std::min(kernel.start, pc);
      kernel.limit = std::max(kernel.limit, pc + 1);
    }
    const int32_t mapping = builder.add_mapping(kernel);
    for (auto [pc, loc] : unnamed_kernel) {
      uint32_t fn = builder.add_function(symbols.readable() ? symbols.name(pc) : "[kernel]");
      auto& location = builder.profile().locations[loc];
      location.mapping = mapping;
      location.lines.assign(1, flamegraph::Line{fn, 0});
    }
    unnamed_kernel.clear();
  }

  uint32_t truncated_marker() {
    if (!truncated_location) truncated_location = builder.add_named_location(flamegraph::kTruncatedFrame);
    return *truncated_location;
  }
  uint32_t gap_marker() {
    if (!gap_location) gap_location = builder.add_named_location(flamegraph::kGapFrame);
    return *gap_location;
  }

  // The user stack of a sample into `physical` (unwind::SampleUnwinder: the walk over the copy, then the
  // continuations onto another stack that the walk alone cannot make).
  unwind::WalkResult walk_user_stack(Process& p, const unwind::RawSample& s) {
    unwind::SampleTarget target;
    target.space = p.space.get();
    target.live = p.live.get();
    target.layout = layout_of(p);
    target.pc_cache = p.walker_pc_cache(options.walker_pc_cache);
    auto walk = p.unwinder.walk(s, target, std::span<unwind::PhysicalFrame>(physical), kLiveTailBytes);
    stats.switched += walk.switched;
    stats.live_tail += walk.live_tail;
    count_window_use(walk);
    if (!walk.result.complete()) ++stats.incomplete;
    return walk.result;
  }

  void add(const unwind::RawSample& s) {
    ++stats.samples;
    stats.taken += s.count;
    stack.clear();
    for (uint64_t pc : s.kernel_chain) {
      uint32_t loc = kernel_location(pc);
      // Without kallsyms every kernel pc is "[kernel]": keep one such frame, not a run of them.
      if (!stack.empty() && stack.back() == loc) continue;
      stack.push_back(loc);
    }
    Process& p = process(s.pid);
    bool complete = false;
    size_t stop = stats.truncated_by.size() - 1;  // the slot of samples with no walk
    if (s.user_regs.pc != 0) {
      size_t n = 0;
      if (p.space) {
        auto result = walk_user_stack(p, s);
        n = result.count;
        complete = result.complete() && n > 0;
        stop = std::min(static_cast<size_t>(result.reason), stop);
      }
      if (n == 0) {
        physical[0] = unwind::PhysicalFrame{};
        physical[0].pc = s.user_regs.pc;
        physical[0].exact_pc = true;
        n = 1;
      }
      bool gap = false;
      for (size_t i = 0; i < n; ++i) {
        if (physical[i].after_gap) {  // what lies below it was not walked
          stack.push_back(gap_marker());
          gap = true;
        }
        auto [loc, unknown] = frame_location(p, physical[i].pc, physical[i].exact_pc);
        stack.push_back(loc);
        ++stats.frames;
        if (unknown) ++stats.unknown_frames;
      }
      if (gap && complete) stats.with_gap += s.count;
    }
    // A stack that stops short says so in one frame of its own, rather than passing for a whole one.
    if (!complete) {
      stack.push_back(truncated_marker());
      stats.truncated += s.count;
      stats.truncated_by[stop] += s.count;
    }
    int64_t count = static_cast<int64_t>(s.count);
    std::array<int64_t, 2> values{count, static_cast<int64_t>(s.period) * count};
    // thread, pid, goroutine (eBPF backend: the goid read at sample time), then the pprof labels.
    // Reused from sample to sample: their strings keep their buffers. Every field of a used slot is set.
    auto& labels = label_buf;
    size_t nlabels = 0;
    auto put = [&](std::string_view key, std::string_view str, int64_t num) {
      labels[nlabels].key.assign(key);
      labels[nlabels].str.assign(str);
      labels[nlabels].num = num;
      ++nlabels;
    };
    if (s.goid != 0) {
      put("goroutine", {}, static_cast<int64_t>(s.goid));
    }
    for (const auto& [key, value] : s.labels) {
      if (nlabels == labels.size()) break;
      put(key, value, 0);
    }
    if (options.thread_label && nlabels < labels.size()) {
      put("thread", {}, s.tid);
    }
    if (options.pids.size() > 1 && nlabels < labels.size()) {
      put("pid", {}, s.pid);
    }
    builder.add_sample(stack, values, std::span<const flamegraph::Label>(labels.data(), nlabels));
  }
};

SampleSymbolizer::SampleSymbolizer(SampleSymbolizerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
SampleSymbolizer::~SampleSymbolizer() = default;

void SampleSymbolizer::add(const unwind::RawSample& sample) { impl_->add(sample); }

const SymbolizerStats& SampleSymbolizer::stats() const { return impl_->stats; }

void SampleSymbolizer::append_locations(uint32_t pid, std::span<const unwind::PhysicalFrame> frames,
                                        std::vector<uint32_t>& out) {
  Impl::Process& p = impl_->process(pid);
  for (const auto& f : frames) {
    auto [loc, unknown] = impl_->frame_location(p, f.pc, f.exact_pc);
    out.push_back(loc);
    ++impl_->stats.frames;
    if (unknown) ++impl_->stats.unknown_frames;
  }
}

uint32_t SampleSymbolizer::named_location(std::string_view name) { return impl_->builder.add_named_location(name); }

void SampleSymbolizer::add_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                                  std::span<const flamegraph::Label> labels) {
  ++impl_->stats.samples;
  impl_->builder.add_sample(locations, values, labels);
}

flamegraph::Profile SampleSymbolizer::finish(int64_t start_unix_ns, int64_t duration_ns) {
  impl_->name_kernel_frames();
  auto& prof = impl_->builder.profile();
  prof.time_nanos = start_unix_ns;
  prof.duration_nanos = duration_ns;
  prof.comments.push_back("goperf record: event " + impl_->options.event_name);
  return impl_->builder.take();
}

}  // namespace goperf::profiler

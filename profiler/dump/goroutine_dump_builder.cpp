// GoroutineDumpBuilder: which stack each goroutine is on and where its walk starts (mirrors
// src/runtime/traceback.go traceback1/unwinder.initAt and tracebackothers), the walk itself
// (unwind::GoroutineWalker), inline expansion and the runtime's frame-hiding rules (showfuncinfo).
#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

#include "profiler/json_string.h"
#include "profiler/dump/goroutine_dump.h"
#include "profiler/dump/goroutine_dump_args.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/go_functions.h"
#include "unwind/address_space.h"
#include "unwind/go_target.h"
#include "unwind/goroutine_walker.h"
#include "unwind/memory.h"
#include "unwind/system_goroutine.h"

namespace goperf::profiler {

using symbolize::FuncKind;
using unwind::GoroutineInfo;
using unwind::PhysicalFrame;

namespace {

constexpr size_t kMaxPhysicalFrames = 16384;

bool is_exported_runtime(std::string_view name) {
  constexpr std::string_view p = "runtime.";
  return name.size() > p.size() && name.substr(0, p.size()) == p && name[p.size()] >= 'A' && name[p.size()] <= 'Z';
}

// showfuncinfo at GOTRACEBACK=all (level 1), src/runtime/traceback.go.
bool show_func(std::string_view name, bool wrapper, bool first_frame, FuncKind callee) {
  if (wrapper && !(callee == FuncKind::kGopanic || callee == FuncKind::kSigpanic || callee == FuncKind::kPanicwrap))
    return false;
  if (name == "runtime.gopanic" && !first_frame) return true;
  return name.find('.') != std::string_view::npos && (name.rfind("runtime.", 0) != 0 || is_exported_runtime(name));
}

// funcNamePiecesForPrint (Go 1.21+): generic shapes print as [...]; gopanic prints as panic.
std::string print_name(std::string_view name, int minor) {
  if (name == "runtime.gopanic") return "panic";
  if (minor >= 21) {
    size_t i = name.find('[');
    size_t j = name.rfind(']');
    if (i != std::string_view::npos && j != std::string_view::npos && j > i)
      return std::string(name.substr(0, i)) + "[...]" + std::string(name.substr(j + 1));
  }
  return std::string(name);
}

// Strings the dumps' views point into: the names a pc or a creator symbolizes to (when they differ
// from the pclntab's own), interned statuses, and the argument text of frames (chunks that never move).
struct DumpStorage {
  std::deque<std::string> names;
  std::vector<std::unique_ptr<char[]>> chunks;
  size_t used = 0;  // bytes used of chunks.back()
  static constexpr size_t kChunk = 64 << 10;

  std::string_view keep(std::string s) { return names.emplace_back(std::move(s)); }
  std::string_view add_text(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > kChunk) {  // an oversized text gets a chunk of its own, before the current one
      if (chunks.empty()) {
        chunks.push_back(std::make_unique<char[]>(kChunk));
        used = 0;
      }
      auto big = std::make_unique<char[]>(s.size());
      std::memcpy(big.get(), s.data(), s.size());
      std::string_view v(big.get(), s.size());
      chunks.insert(chunks.end() - 1, std::move(big));
      return v;
    }
    if (chunks.empty() || used + s.size() > kChunk) {
      chunks.push_back(std::make_unique<char[]>(kChunk));
      used = 0;
    }
    char* p = chunks.back().get() + used;
    std::memcpy(p, s.data(), s.size());
    used += s.size();
    return std::string_view(p, s.size());
  }
  // Forgets every text (keeps one chunk for the next goroutine).
  void recycle_text() {
    if (chunks.size() > 1) {
      std::swap(chunks.front(), chunks.back());
      chunks.resize(1);
    }
    used = 0;
  }
};

// What a pc symbolizes to, kept because thousands of goroutines share the same frames.
struct PcSymbols {
  struct Logical {
    std::string_view function;  // printed name
    std::string_view raw;       // name in the pclntab (showframe tests it)
    std::string_view file;
    int line = 0;
    bool inlined = false;
    bool wrapper = false;
    FuncKind kind = FuncKind::kNormal;
  };
  bool go = false;
  uint64_t entry = 0;         // runtime
  GoArgsProgram args;         // of the physical frame
  std::string_view c_file;    // C frame named "?": its pc in hex
  std::vector<Logical> logical;
};

// What a go statement's pc symbolizes to (printcreatedby).
struct CreatorSymbols {
  std::string_view function, file;
  int line = 0;
  uint64_t offset = 0;
  bool shown = true;
  bool known = false;
};

// A name as the runtime prints it: a view into the pclntab when unchanged, else a kept copy.
std::string_view printed(DumpStorage& store, std::string_view name, int minor) {
  if (name == "runtime.gopanic") return "panic";
  if (minor >= 21 && name.find('[') != std::string_view::npos) return store.keep(print_name(name, minor));
  return name;
}

}  // namespace

// Which thread runs which goroutine, what each pc and creator symbolizes to, and the walk's buffers.
struct GoroutineDumpBuilder::Impl {
  struct OnThread {
    const ThreadRegisters* thread = nullptr;
    unwind::ThreadG tg;
  };

  const DumpInput& in;
  const uint64_t bias;
  unwind::GoroutineWalker walker;
  const bool arm64;
  std::vector<PhysicalFrame> buf;
  std::vector<symbolize::Frame> tmp;
  std::string scratch;
  std::shared_ptr<DumpStorage> store = std::make_shared<DumpStorage>();
  std::unordered_map<uint64_t, PcSymbols> pcs;  // key: pc * 2 + exact
  std::unordered_map<uint64_t, CreatorSymbols> creators;  // key: gopc
  std::unordered_map<uint64_t, bool> system_starts;       // key: startpc
  std::unordered_map<uint64_t, std::string_view> statuses;  // key: status << 8 | wait reason index
  std::unordered_map<uint64_t, OnThread> running;
  std::unordered_map<uint64_t, const unwind::MInfo*> ms;

  Impl(const DumpInput& input, uint64_t b)
      : in(input),
        bias(b),
        walker(*input.memory, *input.space, *input.layout,
               input.threads.empty() ? unwind::Arch::kAmd64 : input.threads.front().regs.arch),
        arm64(!input.threads.empty() && input.threads[0].regs.arch == unwind::Arch::kArm64),
        buf(kMaxPhysicalFrames) {
    for (const auto& th : in.threads) {
      auto tg = in.target->current_g(*in.memory, th.regs);
      if (tg && tg->curg) running[tg->curg] = {&th, *tg};
    }
    for (const auto& m : in.list->ms) ms[m.addr] = &m;
  }

  const PcSymbols& lookup(const PhysicalFrame& pf) {
    auto [it, fresh] = pcs.try_emplace(pf.pc * 2 + (pf.exact_pc ? 1 : 0));
    PcSymbols& info = it->second;
    if (!fresh) return info;
    auto ref = in.space->find(pf.pc);
    auto f = ref ? symbolize::find_go_func(*ref->module, ref->link_pc) : std::nullopt;
    if (!f) {
      PcSymbols::Logical l;
      if (ref) {
        uint64_t lookup_pc = pf.exact_pc ? ref->link_pc : ref->link_pc - 1;
        if (auto sym = ref->module->native_symbols().find(lookup_pc)) {
          l.function = sym->name;
          info.entry = sym->addr + ref->bias;
        }
      }
      if (l.function.empty()) {
        l.function = "?";
        info.c_file = store->keep(hex_string(pf.pc));
      }
      info.logical.push_back(l);
      return info;
    }
    info.go = true;
    info.entry = f->entry + ref->bias;
    uint64_t sym_pc = (!pf.exact_pc && ref->link_pc > f->entry) ? ref->link_pc - 1 : ref->link_pc;
    uint64_t args_pc = in.go_minor < 21 ? symbolize::outermost_inline_call_pc(*ref->module, *f, sym_pc) : sym_pc;
    info.args = go_args_program(*ref->module, *f, args_pc);
    tmp.clear();
    symbolize::go_frames(*ref->module, *f, sym_pc, tmp);
    for (const auto& fr : tmp) {
      PcSymbols::Logical l;
      l.function = printed(*store, fr.function, in.go_minor);
      l.raw = fr.function;
      l.file = fr.file;
      l.line = fr.line;
      l.inlined = fr.inlined;
      l.wrapper = fr.inlined ? fr.file == "<autogenerated>" : f->kind == FuncKind::kWrapper;
      l.kind = fr.inlined ? FuncKind::kNormal : f->kind;
      info.logical.push_back(l);
    }
    return info;
  }

  // Physical frames -> logical frames with the runtime's visibility.
  void symbolize(std::span<const PhysicalFrame> frames, GoroutineDump& d) {
    bool first_shown = true;  // no Go frame shown yet (runtime: n == 0)
    FuncKind callee = FuncKind::kNormal;
    for (const auto& pf : frames) {
      const PcSymbols& info = lookup(pf);
      for (const auto& l : info.logical) {
        DumpFrame& df = d.frames.emplace_back();
        df.function = l.function;
        df.pc = pf.pc;
        df.entry = info.entry;
        df.sp = pf.sp;
        df.fp = pf.fp;
        df.exact_pc = pf.exact_pc;
        df.is_go = info.go;
        if (!info.go) {
          df.file = info.c_file;
          continue;
        }
        df.file = l.file;
        df.line = l.line;
        df.inlined = l.inlined;
        if (l.inlined) {
          df.args = "...";
        } else if (pf.fp != 0) {
          scratch.clear();
          append_go_args(scratch, info.args, *in.memory, pf.fp + (arm64 ? 8 : 0));
          df.args = store->add_text(scratch);
        }
        df.shown = show_func(l.raw, l.wrapper, first_shown, callee);
        if (df.shown) first_shown = false;
        callee = l.kind;
      }
    }
  }

  std::string_view status_text(const GoroutineInfo& g) {
    std::string_view text = g.status_text();
    auto [it, fresh] = statuses.try_emplace(uint64_t{g.status} << 8 | g.wait_reason_index);
    if (fresh) it->second = store->keep(std::string(text));
    // The same status and reason index name the same text within one list; a hand-made one may not.
    return it->second == text ? it->second : store->keep(std::string(text));
  }

  const CreatorSymbols& creator(uint64_t gopc) {
    auto [it, fresh] = creators.try_emplace(gopc);
    CreatorSymbols& c = it->second;
    if (!fresh) return c;
    // printcreatedby: the physical function at gopc, line at gopc - PCQuantum.
    auto ref = in.space->find(gopc);
    if (auto f = ref ? symbolize::find_go_func(*ref->module, ref->link_pc) : std::nullopt) {
      c.known = true;
      c.function = printed(*store, f->name, in.go_minor);
      uint64_t tracepc = ref->link_pc > f->entry ? ref->link_pc - 1 : ref->link_pc;
      auto [file, line] = symbolize::go_file_line(*ref->module, *f, tracepc);
      c.file = file;
      c.line = line;
      c.offset = ref->link_pc - f->entry;
      c.shown = show_func(f->name, f->kind == FuncKind::kWrapper, false, FuncKind::kNormal);
    }
    return c;
  }

  bool is_system(uint64_t startpc) {
    auto [it, fresh] = system_starts.try_emplace(startpc);
    if (fresh) it->second = in.target->is_system_goroutine(startpc);
    return it->second;
  }

  void build(const GoroutineInfo& g, GoroutineDump& d);
};

void GoroutineDumpBuilder::Impl::build(const GoroutineInfo& g, GoroutineDump& d) {
  std::vector<DumpFrame> frames = std::move(d.frames);
  frames.clear();
  d = GoroutineDump{};
  d.frames = std::move(frames);
  d.goid = g.goid;
  d.g_addr = g.g_addr;
  d.status = g.status;
  d.status_text = status_text(g);
  const uint32_t st = g.base_status();
  if ((st == unwind::kGwaiting || st == unwind::kGsyscall) && g.waitsince != 0 && in.now_nanotime > g.waitsince)
    d.wait_minutes = (in.now_nanotime - g.waitsince) / 60000000000LL;
  d.locked_to_thread = g.lockedm != 0;
  d.system = is_system(g.startpc);
  d.parent_goid = g.parent_goid;
  const unwind::MInfo* m = nullptr;
  if (g.m) {
    auto mi = ms.find(g.m);
    if (mi != ms.end()) m = mi->second;
  }
  if (m && (st == unwind::kGrunning || st == unwind::kGsyscall)) d.thread_id = static_cast<int>(m->procid);
  d.m_addr = g.m;
  if (m) d.m_id = m->id;

  auto it = running.find(g.g_addr);
  unwind::GoroutineThread thread;
  if (it != running.end()) thread = {&it->second.thread->regs, it->second.tg};
  auto w = walker.walk(g, m, it != running.end() ? &thread : nullptr, std::span<PhysicalFrame>(buf));
  if (w.on_thread) d.thread_id = it->second.thread->tid;
  d.stop_reason = w.result.reason;
  if (w.walked) symbolize(std::span<const PhysicalFrame>(buf.data(), w.result.count), d);

  if (g.gopc != 0 && g.goid != 1) {
    const CreatorSymbols& c = creator(g.gopc);
    if (c.known) {
      d.creator = c.function;
      d.creator_file = c.file;
      d.creator_line = c.line;
      d.creator_offset = c.offset;
      d.creator_shown = c.shown;
    }
  }
}

GoroutineDumpBuilder::GoroutineDumpBuilder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GoroutineDumpBuilder::~GoroutineDumpBuilder() = default;

Result<std::unique_ptr<GoroutineDumpBuilder>> GoroutineDumpBuilder::create(const DumpInput& in) {
  if (!in.memory || !in.space || !in.target || !in.layout || !in.list)
    return make_error(ErrorCode::kInvalidArgument, "incomplete goroutine dump input");
  auto go = in.space->go_module();
  if (!go) return make_error(ErrorCode::kFormat, "no Go module in the address space");
  return std::unique_ptr<GoroutineDumpBuilder>(
      new GoroutineDumpBuilder(std::make_unique<Impl>(in, go->bias)));
}

size_t GoroutineDumpBuilder::size() const { return impl_->in.list->goroutines.size(); }

void GoroutineDumpBuilder::build(size_t i, GoroutineDump& out, bool keep_args) {
  if (!keep_args) impl_->store->recycle_text();
  impl_->build(impl_->in.list->goroutines[i], out);
}

std::shared_ptr<const void> GoroutineDumpBuilder::storage() const { return impl_->store; }

}  // namespace goperf::profiler

// build_goroutine_dump: which stack each goroutine is on and where its walk starts (mirrors
// src/runtime/traceback.go traceback1/unwinder.initAt and tracebackothers), the walk itself
// (unwind::StackWalker), inline expansion and the runtime's frame-hiding rules (showfuncinfo).
#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "profiler/goroutine_dump.h"
#include "profiler/goroutine_dump_args.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"

namespace goperf::profiler {

using symbolize::FuncKind;
using symbolize::Pclntab;
using unwind::GoroutineInfo;
using unwind::PhysicalFrame;
using unwind::RegisterSet;

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

std::string hex_string(uint64_t v) {
  char buf[24] = "0x";
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
  return std::string(buf, r.ptr);
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

// Go 1.19/1.20 gentraceback passes printArgs the pc it reached walking up the inline tree (the call
// site of the outermost inlined call, entry + inlinedCall.parentPc), not the frame's own pc: liveness
// of spilled arguments is read there.
uint64_t outermost_call_pc(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t pc, int minor) {
  const Pclntab* tab = module.pclntab();
  auto tree = tab->funcdata(f, Pclntab::kFuncdataInlTree);
  if (!tree) return pc;
  const uint64_t size = minor >= 20 ? 16 : 20, parent_off = minor >= 20 ? 8 : 16;
  for (int depth = 0; depth < 100; ++depth) {
    auto ix = tab->pcdata(f, Pclntab::kPcdataInlTreeIndex, pc);
    if (!ix || *ix < 0) break;
    auto bytes = module.elf().read(*tree + static_cast<uint64_t>(*ix) * size + parent_off, 4);
    if (!bytes) break;
    int32_t parent_pc;
    std::memcpy(&parent_pc, bytes->data(), 4);
    pc = f.entry + static_cast<uint32_t>(parent_pc);
  }
  return pc;
}

// What a pc symbolizes to, kept because thousands of goroutines share the same frames.
struct PcInfo {
  struct Logical {
    std::string function;  // printed name
    std::string_view raw;  // name in the pclntab (showframe tests it)
    std::string file;
    int line = 0;
    bool inlined = false;
    bool wrapper = false;
    FuncKind kind = FuncKind::kNormal;
  };
  const symbolize::Module* module = nullptr;  // nullptr: no module
  symbolize::FuncInfo f;
  bool go = false;
  uint64_t entry = 0;    // runtime
  uint64_t args_pc = 0;  // link-time pc for printArgs
  std::vector<Logical> logical;
};

struct Walker {
  const DumpInput& in;
  const unwind::StackWalker walker;
  std::vector<PhysicalFrame> buf;
  std::vector<symbolize::Frame> tmp;
  std::unordered_map<uint64_t, PcInfo> cache;  // key: pc * 2 + exact

  explicit Walker(const DumpInput& input) : in(input), walker(*input.memory, *input.space), buf(kMaxPhysicalFrames) {}

  const PcInfo& lookup(const PhysicalFrame& pf) {
    auto [it, fresh] = cache.try_emplace(pf.pc * 2 + (pf.exact_pc ? 1 : 0));
    PcInfo& info = it->second;
    if (!fresh) return info;
    auto ref = in.space->find(pf.pc);
    const Pclntab* tab = ref ? ref->module->pclntab() : nullptr;
    auto f = tab ? tab->find_func(ref->link_pc) : std::nullopt;
    if (!f) {
      PcInfo::Logical l;
      if (ref) {
        info.module = ref->module;
        uint64_t lookup_pc = pf.exact_pc ? ref->link_pc : ref->link_pc - 1;
        if (auto sym = ref->module->native_symbols().find(lookup_pc)) {
          l.function = std::string(sym->name);
          info.entry = sym->addr + ref->bias;
        }
      }
      if (l.function.empty()) l.function.assign(1, '?');
      info.logical.push_back(std::move(l));
      return info;
    }
    info.module = ref->module;
    info.f = *f;
    info.go = true;
    info.entry = f->entry + ref->bias;
    uint64_t sym_pc = (!pf.exact_pc && ref->link_pc > f->entry) ? ref->link_pc - 1 : ref->link_pc;
    info.args_pc = in.go_minor < 21 ? outermost_call_pc(*ref->module, *f, sym_pc, in.go_minor) : sym_pc;
    tmp.clear();
    tab->frames(*f, sym_pc, tmp);
    for (const auto& fr : tmp) {
      PcInfo::Logical l;
      l.function = print_name(fr.function, in.go_minor);
      l.raw = fr.function;
      l.file = std::string(fr.file);
      l.line = fr.line;
      l.inlined = fr.inlined;
      l.wrapper = fr.inlined ? fr.file == "<autogenerated>" : f->kind == FuncKind::kWrapper;
      l.kind = fr.inlined ? FuncKind::kNormal : f->kind;
      info.logical.push_back(std::move(l));
    }
    return info;
  }

  // Physical frames -> logical frames with the runtime's visibility.
  void symbolize(std::span<const PhysicalFrame> frames, GoroutineDump& d) {
    bool first_shown = true;  // no Go frame shown yet (runtime: n == 0)
    FuncKind callee = FuncKind::kNormal;
    const bool arm64 = !in.threads.empty() && in.threads[0].regs.arch == unwind::Arch::kArm64;
    for (const auto& pf : frames) {
      const PcInfo& info = lookup(pf);
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
          if (df.function == "?") df.file = hex_string(pf.pc);
          continue;
        }
        df.file = l.file;
        df.line = l.line;
        df.inlined = l.inlined;
        if (l.inlined) {
          df.args = "...";
        } else if (pf.fp != 0) {
          df.args = format_go_args(*info.module, info.f, info.args_pc, *in.memory, pf.fp + (arm64 ? 8 : 0));
        }
        df.shown = show_func(l.raw, l.wrapper, first_shown, callee);
        if (df.shown) first_shown = false;
        callee = l.kind;
      }
    }
  }
};

bool is_system_goroutine(const Pclntab& tab, uint64_t link_startpc) {
  auto f = tab.find_func(link_startpc);
  if (!f) return false;
  switch (f->kind) {
    case FuncKind::kRuntimeMain:
    case FuncKind::kCorostart:
    case FuncKind::kHandleAsyncEvent:
      return false;
    case FuncKind::kRunfinq:
      return true;  // unless it is running a finalizer (fingStatus), which a snapshot cannot tell cheaply
    default:
      return f->name.rfind("runtime.", 0) == 0;
  }
}

}  // namespace

Result<GoroutineDumpResult> build_goroutine_dump(const DumpInput& in) {
  if (!in.memory || !in.space || !in.layout || !in.list)
    return make_error(ErrorCode::kInvalidArgument, "incomplete goroutine dump input");
  auto go = in.space->go_module();
  if (!go) return make_error(ErrorCode::kFormat, "no Go module in the address space");
  const Pclntab& tab = *go->module->pclntab();
  const uint64_t bias = go->bias;
  const unwind::GLayout& gl = in.layout->g;

  GoroutineDumpResult out;
  out.go_version = in.go_version;
  out.go_minor = in.go_minor;
  out.threads = in.threads.size();

  // Which thread runs which goroutine (g in R14 or TLS -> m.curg).
  struct OnThread {
    const ThreadRegisters* thread = nullptr;
    unwind::ThreadG tg;
  };
  std::unordered_map<uint64_t, OnThread> running;
  for (const auto& t : in.threads) {
    auto f = tab.find_func(t.regs.pc - bias);
    bool in_go = f && !(f->flag & Pclntab::kFlagAsm);
    auto tg = unwind::current_g(*in.memory, t.regs, in_go, *in.layout, in.tls_offsets);
    if (tg && tg->curg) running[tg->curg] = {&t, *tg};
  }
  std::unordered_map<uint64_t, const unwind::MInfo*> ms;
  for (const auto& m : in.list->ms) ms[m.addr] = &m;

  Walker w(in);
  for (const GoroutineInfo& g : in.list->goroutines) {
    GoroutineDump d;
    d.goid = g.goid;
    d.g_addr = g.g_addr;
    d.status = g.status;
    d.status_text = std::string(g.status_text());
    const uint32_t st = g.base_status();
    if ((st == unwind::kGwaiting || st == unwind::kGsyscall) && g.waitsince != 0 && in.now_nanotime > g.waitsince)
      d.wait_minutes = (in.now_nanotime - g.waitsince) / 60000000000LL;
    d.locked_to_thread = g.lockedm != 0;
    d.system = is_system_goroutine(tab, g.startpc - bias);
    d.parent_goid = g.parent_goid;
    const unwind::MInfo* m = g.m ? (ms.count(g.m) ? ms[g.m] : nullptr) : nullptr;
    if (m && (st == unwind::kGrunning || st == unwind::kGsyscall)) d.thread_id = static_cast<int>(m->procid);
    d.m_addr = g.m;
    if (m) d.m_id = m->id;

    RegisterSet start;
    unwind::WalkOptions opt;
    RegisterSet target;
    opt.stack_lo = g.stack_lo;
    opt.stack_hi = g.stack_hi;
    bool walk = true;
    auto it = running.find(g.g_addr);
    const bool in_syscall = st == unwind::kGsyscall && g.syscallsp != 0;
    if (it != running.end() && !(in_syscall && it->second.tg.kind == unwind::ThreadG::Kind::kUser)) {
      // On a thread: its registers are the truth (the runtime itself cannot print these).
      const auto& on = it->second;
      d.thread_id = on.thread->tid;
      start = on.thread->regs;
      opt.innermost_exact = true;
      if (on.tg.kind != unwind::ThreadG::Kind::kUser) {
        // On g0/gsignal (systemstack, mcall, a cgo call): walk the system stack, then the goroutine's.
        target.arch = start.arch;
        target.pc = in_syscall ? g.syscallpc : g.sched_pc;
        target.sp = in_syscall ? g.syscallsp : g.sched_sp;
        target.fp = in_syscall ? 0 : g.sched_bp;
        target.lr = in_syscall ? 0 : g.sched_lr;
        opt.switch_to = &target;
        opt.switch_stack_lo = g.stack_lo;
        opt.switch_stack_hi = g.stack_hi;
        uint64_t lo = 0, hi = 0;
        if (in.memory->read_value<uint64_t>(on.tg.g + gl.stack_lo) && in.memory->read_value<uint64_t>(on.tg.g + gl.stack_hi)) {
          lo = *in.memory->read_value<uint64_t>(on.tg.g + gl.stack_lo);
          hi = *in.memory->read_value<uint64_t>(on.tg.g + gl.stack_hi);
        }
        bool plausible = lo < hi && start.sp >= lo && start.sp < hi;
        opt.stack_lo = plausible ? lo : 0;
        opt.stack_hi = plausible ? hi : 0;
      } else if (m && m->vdso_sp != 0) {
        target.pc = m->vdso_pc;
        target.sp = m->vdso_sp;
        opt.switch_to = &target;
        opt.switch_stack_lo = g.stack_lo;
        opt.switch_stack_hi = g.stack_hi;
      }
    } else if (st == unwind::kGrunning) {
      walk = false;  // running on a thread we could not identify: sched is stale
    } else {
      // unwinder.initAt / traceback1: syscall state first, then a VDSO call, then g.sched.
      opt.innermost_exact = false;
      start.pc = g.sched_pc;
      start.sp = g.sched_sp;
      start.fp = g.sched_bp;
      start.lr = g.sched_lr;
      if (in_syscall || g.syscallsp != 0) {
        start.pc = g.syscallpc;
        start.sp = g.syscallsp;
        start.fp = 0;
        start.lr = 0;
      }
      if (m && m->vdso_sp != 0) {
        start.pc = m->vdso_pc;
        start.sp = m->vdso_sp;
      }
      if (start.pc == 0 && start.sp != 0) {
        if (auto r = in.memory->read_u64(start.sp)) {
          start.pc = *r;
          start.sp += 8;
        }
      }
    }
    if (walk) {
      auto r = w.walker.walk(start, opt, std::span<PhysicalFrame>(w.buf));
      d.stop_reason = r.reason;
      w.symbolize(std::span<const PhysicalFrame>(w.buf.data(), r.count), d);
    } else {
      d.stop_reason = unwind::StopReason::kUnknownPc;
    }

    // created by (printcreatedby): the physical function at gopc, line at gopc - PCQuantum.
    if (g.gopc != 0 && g.goid != 1) {
      auto ref = in.space->find(g.gopc);
      const Pclntab* ctab = ref ? ref->module->pclntab() : nullptr;
      if (auto f = ctab ? ctab->find_func(ref->link_pc) : std::nullopt) {
        d.creator = print_name(f->name, in.go_minor);
        uint64_t tracepc = ref->link_pc > f->entry ? ref->link_pc - 1 : ref->link_pc;
        auto [file, line] = ctab->file_line(*f, tracepc);
        d.creator_file = std::string(file);
        d.creator_line = line;
        d.creator_offset = ref->link_pc - f->entry;
        d.creator_shown = show_func(f->name, f->kind == FuncKind::kWrapper, false, FuncKind::kNormal);
      }
    }
    out.goroutines.push_back(std::move(d));
  }
  return out;
}

}  // namespace goperf::profiler

// StackWalker: one walk loop with the rules of src/runtime/traceback.go (unwinder.resolveInternal and
// unwinder.next, Go 1.21+; gentraceback in 1.19/1.20 applies the same rules).
#include "unwind/stack_walker.h"

#include <algorithm>
#include <optional>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/mappings.h"
#include "unwind/memory.h"
#include "unwind/pc_info_cache.h"
#include "unwind/return_address.h"

namespace goperf::unwind {

using symbolize::FuncKind;
using symbolize::Pclntab;

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::kTopFrame: return "top frame";
    case StopReason::kZeroPc: return "zero return address";
    case StopReason::kFull: return "frame limit";
    case StopReason::kUnknownPc: return "unknown pc";
    case StopReason::kNoPcsp: return "no pcsp table";
    case StopReason::kSpWrite: return "SPWRITE function";
    case StopReason::kUnreadable: return "stack not readable";
    case StopReason::kBadFrame: return "bad frame";
    case StopReason::kStackSwitch: return "stack switch";
    case StopReason::kMcall: return "mcall";
    case StopReason::kNotReturnAddress: return "not a return address";
  }
  return "?";
}

namespace {

// The mapping of the last lookup: consecutive frames are nearly always in the same module.
struct ModuleCache {
  const Mapping* mapping = nullptr;
  ModuleRef ref;
};

std::optional<ModuleRef> lookup(const AddressSpace& space, ModuleCache& cache, uint64_t pc) {
  if (cache.mapping && cache.mapping->contains(pc)) {
    ModuleRef r = cache.ref;
    r.link_pc = pc - r.bias;
    return r;
  }
  const Mapping* m = space.mappings().find(pc);
  if (!m) return std::nullopt;
  auto ref = space.find(pc);
  if (ref) {
    cache.mapping = m;
    cache.ref = *ref;
  }
  return ref;
}

bool in_bounds(uint64_t sp, uint64_t lo, uint64_t hi) { return hi == 0 || (sp >= lo && sp < hi); }

bool is_code(const AddressSpace& space, uint64_t pc) {
  const Mapping* m = space.mappings().find(pc);
  return m && m->executable;
}

// Whether the code of f right before link_pc ends with a call: a return address into f must.
bool call_before(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_pc, Arch arch) {
  uint64_t len = std::min<uint64_t>(kMaxCallBytes, link_pc - f.entry);
  auto code = module.elf().read(link_pc - len, len);
  return code && follows_call(arch, *code);
}

// Everything one frame's step needs from the tables at pc: the module, the Go function's kind and
// flags, its pcsp value at pc (funcspdelta(f, frame.pc) in traceback.go), and, if `check_call`, whether
// pc follows a call (a read of the code: skipped for the innermost pcs, most of a profile's distinct pcs).
PcInfo resolve(const AddressSpace& space, ModuleCache& modules, uint64_t pc, Arch arch, bool check_call) {
  PcInfo info;
  info.pc = pc;
  auto ref = lookup(space, modules, pc);
  const Pclntab* tab = ref ? ref->module->pclntab() : nullptr;
  auto f = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (f) {
    info.where = PcInfo::Where::kGo;
    info.kind = f->kind;
    info.flag = f->flag;
    info.call_checked = check_call;
    if (check_call) info.after_call = call_before(*ref->module, *f, ref->link_pc, arch);
    if (auto delta = tab->sp_delta(*f, ref->link_pc)) {
      info.sp_delta = *delta;
      info.has_sp_delta = true;
    }
  } else if (ref) {
    info.where = PcInfo::Where::kModule;
  } else {
    info.where = is_code(space, pc) ? PcInfo::Where::kCode : PcInfo::Where::kUnknown;
  }
  return info;
}

// A pc read from a stack (not from registers or a saved g.sched) becomes a frame only if it can be one:
// in executable memory, and in Go code right after a call. The exceptions are the runtime's own fake
// return addresses: goexit+PCQuantum, which newproc pushes under every goroutine (proc.go newproc1,
// gostartcallfn); systemstack_switch (+8 since Go 1.21), which asmcgocall saves in g.sched.pc and
// cgocallback pushes as its return address on the goroutine stack (asm_amd64.s); and an exact pc (the
// instruction a signal interrupted, below sigpanic or asyncPreempt), which need not follow anything.
bool can_be_frame(const PcInfo& info, bool exact) {
  if (info.where == PcInfo::Where::kUnknown) return false;
  if (info.where != PcInfo::Where::kGo || exact) return true;
  return info.after_call || info.kind == FuncKind::kGoexit || info.kind == FuncKind::kSystemstackSwitch;
}

}  // namespace

WalkResult StackWalker::walk(const RegisterSet& regs, const WalkOptions& options, std::span<PhysicalFrame> out) const {
  const bool uses_lr = regs.arch == Arch::kArm64;
  const uint64_t ptr = 8;
  uint64_t pc = regs.pc, sp = regs.sp, fp_reg = regs.fp, lr = regs.lr;
  uint64_t lo = options.stack_lo, hi = options.stack_hi;
  bool exact = options.innermost_exact;
  bool innermost = true;
  bool switched = false, just_switched = false;
  bool from_stack = false;  // pc was read from memory: it must pass can_be_frame
  ModuleCache modules;
  size_t n = 0;

  // What the tables say at pc: from the cache, else resolved into *scratch, and remembered if `remember`
  // (a frame's pc; not a word merely tested for being one, which would evict a frame's entry).
  // `check_call`: the answer must say whether at_pc follows a call.
  auto info_at = [&](uint64_t at_pc, PcInfo* scratch, bool remember, bool check_call) -> const PcInfo* {
    const PcInfo* hit = cache_ ? cache_->find(at_pc) : nullptr;
    if (hit && (hit->call_checked || !check_call || hit->where != PcInfo::Where::kGo)) return hit;
    *scratch = resolve(space_, modules, at_pc, regs.arch, check_call);
    if (cache_ && remember) cache_->insert(*scratch);
    return scratch;
  };

  // The word at addr when it is a return address into a vDSO caller (symbolize::FuncKind::kVdsoCall).
  auto return_into_vdso_caller = [&](uint64_t addr) -> std::optional<uint64_t> {
    auto word = memory_.read_u64(addr);
    if (!word || *word == 0) return std::nullopt;
    PcInfo scratch;
    const PcInfo* to = info_at(*word, &scratch, false, true);
    if (to->where != PcInfo::Where::kGo || to->kind != FuncKind::kVdsoCall || !to->after_call) return std::nullopt;
    return *word;
  };

  // Continues on the goroutine stack from its saved state (m.curg's sched or syscall pc/sp).
  auto switch_stack = [&]() -> bool {
    if (!options.switch_to || switched) return false;
    const RegisterSet& t = *options.switch_to;
    pc = t.pc;
    sp = t.sp;
    fp_reg = t.fp;
    lr = t.lr;
    lo = options.switch_stack_lo;
    hi = options.switch_stack_hi;
    exact = false;
    from_stack = false;
    switched = just_switched = true;
    innermost = false;
    return true;
  };

  // A C frame that cannot be unwound leads back to the goroutine, except where only the runtime's own
  // jump points may switch.
  auto resume_after_c_frame = [&]() { return !options.switch_only_where_runtime_does && switch_stack(); };

  while (true) {
    if (n == out.size()) return {n, StopReason::kFull};
    if (pc == 0) return {n, StopReason::kZeroPc};
    PcInfo resolved;
    const PcInfo info = *info_at(pc, &resolved, true, from_stack && !exact);
    if (from_stack && !can_be_frame(info, exact)) {
      if (resume_after_c_frame()) continue;
      return {n, StopReason::kNotReturnAddress};
    }
    PhysicalFrame& frame = out[n];
    frame = PhysicalFrame{};
    frame.pc = pc;
    frame.sp = sp;
    frame.exact_pc = exact;
    frame.after_switch = just_switched;
    just_switched = false;

    const PcInfo* f = info.where == PcInfo::Where::kGo ? &info : nullptr;
    const bool has_delta = info.has_sp_delta;
    const int32_t delta = info.has_sp_delta ? info.sp_delta : 0;

    if (f) {
      frame.is_go = true;
      ++n;
      // On the system stack, the switch points lead back to the goroutine (resolveInternal's
      // unwindJumpStack cases; mcall and asmcgocall saved the goroutine's state in g.sched and
      // g.syscallsp/pc before switching).
      if (!switched && options.switch_to) {
        bool other_switch = !options.switch_only_where_runtime_does &&
                            (f->kind == FuncKind::kMcall || f->kind == FuncKind::kAsmcgocall);
        if (f->kind == FuncKind::kMorestack || other_switch) {
          --n;  // morestack's frame is replaced by the goroutine's (runtime: frame.pc = curg.sched.pc)
          if (f->kind != FuncKind::kMorestack) ++n;
          switch_stack();
          continue;
        }
        if (f->kind == FuncKind::kSystemstack) {
          // systemstack saved sp in curg.sched.sp (gosave_systemstack_switch): its caller's return
          // address is on top of the goroutine stack, at the systemstack frame's own delta.
          uint64_t gsp = options.switch_to->sp + static_cast<uint64_t>(static_cast<int64_t>(delta));
          auto ret = memory_.read_u64(gsp);
          if (!ret) return {n, StopReason::kUnreadable};
          frame.fp = gsp + (uses_lr ? 0 : ptr);
          pc = *ret;
          from_stack = true;
          sp = frame.fp;
          fp_reg = options.switch_to->fp;
          lo = options.switch_stack_lo;
          hi = options.switch_stack_hi;
          exact = false;
          switched = just_switched = true;
          innermost = false;
          continue;
        }
      }
      if (has_delta) frame.fp = sp + static_cast<int64_t>(delta) + (uses_lr ? 0 : ptr);
      if ((f->flag & Pclntab::kFlagTopFrame) || f->kind == FuncKind::kGoexit) return {n, StopReason::kTopFrame};
      // mcall runs fn on g0 with sp reset to g0's base: runtime/pprof's traceback ends there (mcall is
      // SPWRITE, traceback.go resolveInternal), and so does a profile's stack.
      if (f->kind == FuncKind::kMcall && !innermost) return {n, StopReason::kMcall};
      // A function that wrote sp cannot be unwound by its pcsp table, except the vDSO callers (BP, below).
      if ((f->flag & Pclntab::kFlagSpWrite) && !innermost && f->kind != FuncKind::kCgocallback &&
          f->kind != FuncKind::kVdsoCall) {
        return {n, StopReason::kSpWrite};
      }
      if (!has_delta) return {n, StopReason::kNoPcsp};
      uint64_t ret = 0;
      uint64_t cfa = sp + static_cast<int64_t>(delta);
      bool left_system_stack = false;
      // A vDSO caller past its prologue (PUSHQ BP; MOVQ SP, BP; SUBQ: delta > 8) may have moved sp to
      // g0's stack for the call; its frame stays where BP points, on the goroutine's stack, which the
      // walk continues on (the runtime's sigprof goes there through m.vdsoSP instead).
      if (f->kind == FuncKind::kVdsoCall && !uses_lr && delta > 8 && fp_reg != 0 && (fp_reg & 7) == 0 &&
          fp_reg + ptr != cfa) {
        cfa = fp_reg + ptr;
        frame.fp = cfa + ptr;
        lo = hi = 0;  // a stack the walk has no bounds for
        left_system_stack = true;
      }
      if (!uses_lr) {
        auto r = memory_.read_u64(cfa);
        if (!r) return {n, StopReason::kUnreadable};
        ret = *r;
        // A Go frame with a frame pushes the caller's BP just below the return address.
        if (delta > 0) {
          if (auto bp = memory_.read_u64(cfa - ptr)) fp_reg = *bp;
        }
        cfa += ptr;
      } else {
        if (innermost && delta == 0) {
          ret = lr;
        } else {
          auto r = memory_.read_u64(sp);
          if (!r) return {n, StopReason::kUnreadable};
          ret = *r;
        }
      }
      frame.fp = cfa;
      if (cfa <= sp && delta > 0 && !left_system_stack) return {n, StopReason::kBadFrame};
      if (hi != 0 && (cfa < lo || cfa > hi)) return {n, StopReason::kBadFrame};
      // Injected calls (unwinder.next, unwindTrap): the frame below them was interrupted, its pc is exact.
      exact = f->kind == FuncKind::kSigpanic || f->kind == FuncKind::kAsyncPreempt || f->kind == FuncKind::kDebugCallV2;
      if (uses_lr && exact) {
        // arm64: the injected call's frame sits on an aligned extra word; the interrupted function's
        // LR may be that word when its own frame is empty (unwinder.next).
        auto saved = memory_.read_u64(cfa);
        if (saved) lr = *saved;
        cfa += 16;
      }
      pc = ret;
      from_stack = true;
      sp = cfa;
      innermost = false;
      continue;
    }

    // C code (or unknown): frame pointers, validated; on failure resume on the goroutine stack.
    ++n;
    if (info.where == PcInfo::Where::kUnknown) {
      if (resume_after_c_frame()) continue;
      return {n, StopReason::kUnknownPc};
    }
    // A vDSO function interrupted before its frame is set up, called by a vDSO caller (runtime.nanotime1,
    // time.now): BP is still the caller's, so the frame-pointer step would skip the caller. Its return
    // address is at sp (no frame yet), or at sp + 8 with BP just pushed.
    if (innermost && !uses_lr) {
      uint64_t at = sp;
      auto ret = return_into_vdso_caller(at);
      if (!ret) {
        at = sp + ptr;
        auto pushed = memory_.read_u64(sp);
        if (pushed && *pushed == fp_reg) ret = return_into_vdso_caller(at);
      }
      if (ret) {
        frame.fp = at + ptr;
        pc = *ret;
        from_stack = true;
        sp = at + ptr;
        exact = false;
        innermost = false;
        continue;
      }
    }
    bool ok = fp_reg != 0 && (fp_reg & 7) == 0 && fp_reg >= sp && in_bounds(fp_reg, lo, hi);
    uint64_t next_pc = 0, next_fp = 0;
    if (ok) {
      auto r = memory_.read_u64(fp_reg + ptr);
      auto b = memory_.read_u64(fp_reg);
      ok = r && b;
      if (ok) {
        next_pc = *r;
        next_fp = *b;
        ok = next_pc == 0 || is_code(space_, next_pc);
      }
    }
    if (!ok) {
      if (resume_after_c_frame()) continue;
      return {n, StopReason::kBadFrame};
    }
    if (next_pc == 0) {
      if (resume_after_c_frame()) continue;
      return {n, StopReason::kZeroPc};
    }
    frame.fp = fp_reg + 2 * ptr;
    sp = frame.fp;
    pc = next_pc;
    from_stack = true;
    fp_reg = next_fp;
    exact = false;
    innermost = false;
  }
}

}  // namespace goperf::unwind

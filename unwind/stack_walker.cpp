// StackWalker: one walk loop with the rules of src/runtime/traceback.go (unwinder.resolveInternal and
// unwinder.next, Go 1.21+; gentraceback in 1.19/1.20 applies the same rules).
#include "unwind/stack_walker.h"

#include <elf.h>

#include <algorithm>
#include <array>
#include <optional>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/frame_rules_amd64.h"
#include "unwind/frame_rules_arm64.h"
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

// Whether link_pc is in one of the module's executable segments: an address in its read-only data (a
// constant, a closure's funcval) is no frame, whatever a stale stack slot says.
bool in_code_segment(const symbolize::Module& module, uint64_t link_pc) {
  for (const auto& seg : module.elf().segments()) {
    if (seg.type == PT_LOAD && (seg.flags & PF_X) && link_pc >= seg.vaddr && link_pc - seg.vaddr < seg.memsz) return true;
  }
  return false;
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
  } else if (ref && in_code_segment(*ref->module, ref->link_pc)) {
    info.where = PcInfo::Where::kModule;
  } else if (ref) {
    info.where = PcInfo::Where::kUnknown;  // a file's data (a core's NT_FILE mappings carry no permissions)
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

// One walk: the registers it carries from frame to frame, and one named step per kind of frame. Each
// step either moves to the caller (Step::kNext) or ends the walk with a reason (Step::kStop). The steps are
// inlined into run(), so that the walk's state can live in registers as one loop's locals would.
template <typename Rules>
class Walk {
 public:
  Walk(const Memory& memory, const AddressSpace& space, PcInfoCache* cache, const RegisterSet& regs,
       const WalkOptions& options, std::span<PhysicalFrame> out, ModuleCache& modules)
      : memory_(memory), space_(space), cache_(cache), arch_(regs.arch),
        options_(options), out_(out), modules_(modules), pc_(regs.pc), sp_(regs.sp), fp_(regs.fp), lr_(regs.lr),
        lo_(options.stack_lo), hi_(options.stack_hi), exact_(options.innermost_exact) {}

  WalkResult run();

 private:
  enum class Step : uint8_t { kNext, kStop };

  const PcInfo* info_at(uint64_t at_pc, PcInfo* scratch, bool remember, bool check_call);
  Step next_frame();
  Step go_frame(const PcInfo& f, PhysicalFrame& frame);
  Step go_frame_at_switch_point(const PcInfo& f, PhysicalFrame& frame, bool& switched_here);
  Step systemstack_frame(int32_t delta, PhysicalFrame& frame);
  Step c_frame(const PcInfo& info, PhysicalFrame& frame);
  bool vdso_frame(PhysicalFrame& frame);
  bool at_sigreturn_trampoline();
  bool signal_return_frame(PhysicalFrame& frame);
  std::optional<uint64_t> return_into_vdso_caller(uint64_t addr);
  bool is_return_into_vdso_caller(uint64_t pc);
  // How far above sp a vDSO function's own frame record can be (its locals are a few words).
  static constexpr uint64_t kVdsoFrameReach = 4096;
  bool switch_stack();
  // Past a frame that cannot be unwound, back to the goroutine the system stack serves: the frames in
  // between are unknown, which the next frame says (after_gap).
  bool resume_after_c_frame() {
    if (options_.switch_only_where_runtime_does && !options_.switch_after_unwalkable_c) return false;
    if (!switch_stack()) return false;
    gap_ = true;
    return true;
  }
  Step stop(StopReason reason) {
    reason_ = reason;
    return Step::kStop;
  }
  // The caller's pc, read from the stack (it must pass can_be_frame), at sp.
  void move_to_caller(uint64_t pc, uint64_t sp) {
    pc_ = pc;
    sp_ = sp;
    from_stack_ = true;
    innermost_ = false;
  }

  const Memory& memory_;
  const AddressSpace& space_;
  PcInfoCache* cache_;
  const Arch arch_;
  const WalkOptions& options_;
  std::span<PhysicalFrame> out_;
  ModuleCache& modules_;  // outside the walk: resolve() takes its address, the walk's own state must not escape
  uint64_t pc_, sp_, fp_, lr_;
  uint64_t lo_, hi_;          // bounds of the stack the walk is on (hi_ == 0: unknown)
  bool exact_;                // pc_ is the executing instruction, not a return address
  bool innermost_ = true;
  bool switched_ = false, just_switched_ = false;
  bool gap_ = false;          // the next frame follows frames not walked
  bool from_stack_ = false;   // pc_ was read from memory: it must pass can_be_frame
  bool frame_is_c_ = false;   // the frame just taken is not Go code
  bool callee_is_c_ = false;  // the frame below the current one (its callee) was not Go code: the vDSO
  size_t n_ = 0;
  StopReason reason_ = StopReason::kTopFrame;
};

template <typename Rules>
[[gnu::always_inline]] inline WalkResult Walk<Rules>::run() {
  while (next_frame() == Step::kNext) {
  }
  return {n_, reason_};
}

// What the tables say at pc: from the cache, else resolved into *scratch, and remembered if `remember`
// (a frame's pc; not a word merely tested for being one, which would evict a frame's entry).
// `check_call`: the answer must say whether at_pc follows a call.
template <typename Rules>
[[gnu::always_inline]] inline const PcInfo* Walk<Rules>::info_at(uint64_t at_pc, PcInfo* scratch, bool remember, bool check_call) {
  const PcInfo* hit = cache_ ? cache_->find(at_pc) : nullptr;
  if (hit && (hit->call_checked || !check_call || hit->where != PcInfo::Where::kGo)) return hit;
  *scratch = resolve(space_, modules_, at_pc, arch_, check_call);
  if (cache_ && remember) cache_->insert(*scratch);
  return scratch;
}

// One frame at pc_: a Go frame (pclntab) or a C frame (frame pointers); a word that cannot be a return
// address leads back to the goroutine stack or ends the walk.
template <typename Rules>
[[gnu::always_inline]] inline typename Walk<Rules>::Step Walk<Rules>::next_frame() {
  if (n_ == out_.size()) return stop(StopReason::kFull);
  if (pc_ == 0) return stop(StopReason::kZeroPc);
  PcInfo resolved;
  const PcInfo info = *info_at(pc_, &resolved, true, from_stack_ && !exact_);
  if (from_stack_ && !can_be_frame(info, exact_)) {
    if (resume_after_c_frame()) return Step::kNext;
    return stop(StopReason::kNotReturnAddress);
  }
  PhysicalFrame& frame = out_[n_];
  frame = PhysicalFrame{};
  frame.pc = pc_;
  frame.sp = sp_;
  frame.exact_pc = exact_;
  frame.after_switch = just_switched_;
  frame.after_gap = gap_;
  just_switched_ = gap_ = false;
  callee_is_c_ = frame_is_c_;
  frame_is_c_ = info.where != PcInfo::Where::kGo;
  if (info.where == PcInfo::Where::kGo) return go_frame(info, frame);
  return c_frame(info, frame);
}

// Stack switch: continues on the goroutine stack from its saved state (m.curg's sched or syscall pc/sp),
// as traceback.go unwinder.resolveInternal does at unwindJumpStack functions (frame.pc = gp.m.curg.sched.pc).
template <typename Rules>
[[gnu::always_inline]] inline bool Walk<Rules>::switch_stack() {
  if (!options_.switch_to || switched_) return false;
  const RegisterSet& t = *options_.switch_to;
  pc_ = t.pc;
  sp_ = t.sp;
  fp_ = t.fp;
  lr_ = t.lr;
  lo_ = options_.switch_stack_lo;
  hi_ = options_.switch_stack_hi;
  exact_ = false;
  from_stack_ = false;
  switched_ = just_switched_ = true;
  innermost_ = false;
  frame_is_c_ = false;
  return true;
}

// systemstack saved sp in curg.sched.sp (gosave_systemstack_switch, asm_amd64.s/asm_arm64.s): its
// caller's return address is on top of the goroutine stack, at the systemstack frame's own delta.
template <typename Rules>
[[gnu::always_inline]] inline typename Walk<Rules>::Step Walk<Rules>::systemstack_frame(int32_t delta, PhysicalFrame& frame) {
  uint64_t gsp = options_.switch_to->sp + static_cast<uint64_t>(static_cast<int64_t>(delta));
  auto ret = memory_.read_u64(gsp);
  if (!ret) return stop(StopReason::kUnreadable);
  frame.fp = gsp + Rules::kCallBytes;
  move_to_caller(*ret, frame.fp);
  fp_ = options_.switch_to->fp;
  lo_ = options_.switch_stack_lo;
  hi_ = options_.switch_stack_hi;
  exact_ = false;
  switched_ = just_switched_ = true;
  return Step::kNext;
}

// On the system stack, the switch points lead back to the goroutine (traceback.go resolveInternal's
// unwindJumpStack cases; mcall and asmcgocall saved the goroutine's state in g.sched and
// g.syscallsp/pc before switching). `switched_here` says whether the walk moved.
template <typename Rules>
[[gnu::always_inline]] inline typename Walk<Rules>::Step Walk<Rules>::go_frame_at_switch_point(const PcInfo& f, PhysicalFrame& frame, bool& switched_here) {
  switched_here = true;
  bool other_switch = f.kind == FuncKind::kAsmcgocall ||
                      (!options_.switch_only_where_runtime_does && f.kind == FuncKind::kMcall);
  if (f.kind == FuncKind::kMorestack || other_switch) {
    if (f.kind == FuncKind::kMorestack) --n_;  // replaced by the goroutine's frame (frame.pc = curg.sched.pc)
    switch_stack();
    return Step::kNext;
  }
  if (f.kind == FuncKind::kSystemstack) return systemstack_frame(f.has_sp_delta ? f.sp_delta : 0, frame);
  switched_here = false;
  return Step::kNext;
}

// A Go frame: its size from the pcsp table, the return address above it (traceback.go unwinder.next,
// funcspdelta), and the runtime's ends of a stack (TOPFRAME, goexit, mcall, SPWRITE).
template <typename Rules>
[[gnu::always_inline]] inline typename Walk<Rules>::Step Walk<Rules>::go_frame(const PcInfo& f, PhysicalFrame& frame) {
  frame.is_go = true;
  ++n_;
  if (!switched_ && options_.switch_to) {
    bool switched_here = false;
    Step s = go_frame_at_switch_point(f, frame, switched_here);
    if (switched_here) return s;
  }
  const int32_t delta = f.has_sp_delta ? f.sp_delta : 0;
  if (f.has_sp_delta) frame.fp = sp_ + static_cast<int64_t>(delta) + Rules::kCallBytes;
  if ((f.flag & Pclntab::kFlagTopFrame) || f.kind == FuncKind::kGoexit) return stop(StopReason::kTopFrame);
  // mcall runs fn on g0 with sp reset to g0's base: runtime/pprof's traceback ends there (mcall is
  // SPWRITE, traceback.go resolveInternal), and so does a profile's stack.
  if (f.kind == FuncKind::kMcall && !innermost_) return stop(StopReason::kMcall);
  // A function that wrote sp cannot be unwound by its pcsp table, except the vDSO callers (BP, below).
  if ((f.flag & Pclntab::kFlagSpWrite) && !innermost_ && f.kind != FuncKind::kCgocallback &&
      f.kind != FuncKind::kVdsoCall) {
    return stop(StopReason::kSpWrite);
  }
  if (!f.has_sp_delta) return stop(StopReason::kNoPcsp);
  // Below an injected call (asyncPreempt, sigpanic) the interrupted frame is like the innermost one: a
  // frameless leaf's return address is in the LR its caller saved (traceback.go unwinder.next).
  const bool interrupted = innermost_ || exact_;
  GoFrameAt at{sp_, sp_ + static_cast<int64_t>(delta), delta, interrupted, lr_, fp_};
  bool left_system_stack = false;
  // A vDSO caller past its prologue may have moved sp to g0's stack for the call; its frame stays where
  // the frame pointer says, on the goroutine's stack, which the walk continues on (the runtime's sigprof
  // goes there through m.vdsoSP instead). Only while it calls the vDSO: as the innermost frame or right
  // above the vDSO's frame. Higher up (arm64's time.now, Go code above walltime) its sp is its own, and a
  // frame pointer that is not its own must not move the walk.
  if (f.kind == FuncKind::kVdsoCall && (innermost_ || callee_is_c_)) {
    if (auto cfa = Rules::vdso_caller_cfa(delta, fp_, at.cfa)) {
      at.cfa = *cfa;
      at.sp = *cfa - static_cast<uint64_t>(delta);  // the frame itself (arm64 reads its return address there)
      frame.fp = at.cfa + Rules::kCallBytes;  // what the vDSO continuation reads from (sample_continuations.h)
      lo_ = hi_ = 0;  // a stack the walk has no bounds for
      left_system_stack = true;
    }
  }
  auto caller = Rules::go_caller(memory_, at);
  if (!caller) return stop(StopReason::kUnreadable);
  uint64_t cfa = caller->sp;
  fp_ = caller->fp;
  frame.fp = cfa;
  if (cfa <= sp_ && delta > 0 && !left_system_stack) return stop(StopReason::kBadFrame);
  if (hi_ != 0 && (cfa < lo_ || cfa > hi_)) return stop(StopReason::kBadFrame);
  // Injected calls (unwinder.next, unwindTrap): the frame below them was interrupted, its pc is exact.
  exact_ = f.kind == FuncKind::kSigpanic || f.kind == FuncKind::kAsyncPreempt || f.kind == FuncKind::kDebugCallV2;
  if (exact_) {
    uint64_t lr = lr_;  // a copy: the walk's state stays out of memory the rules could see
    cfa = Rules::after_injected_call(memory_, cfa, lr);
    lr_ = lr;
  }
  move_to_caller(caller->pc, cfa);
  return Step::kNext;
}

// The word at addr when it is a return address into a vDSO caller (symbolize::FuncKind::kVdsoCall).
template <typename Rules>
[[gnu::always_inline]] inline std::optional<uint64_t> Walk<Rules>::return_into_vdso_caller(uint64_t addr) {
  auto word = memory_.read_u64(addr);
  if (!word || *word == 0 || !is_return_into_vdso_caller(*word)) return std::nullopt;
  return *word;
}

template <typename Rules>
[[gnu::always_inline]] inline bool Walk<Rules>::is_return_into_vdso_caller(uint64_t pc) {
  PcInfo scratch;
  const PcInfo* to = info_at(pc, &scratch, false, true);
  return to->where == PcInfo::Where::kGo && to->kind == FuncKind::kVdsoCall && to->after_call;
}

// A vDSO frame: a vDSO function interrupted before its frame is set up, called by a vDSO caller
// (runtime.nanotime1, time.now; sys_linux_amd64.s): the frame pointer is still the caller's, so the
// frame-pointer step would skip the caller. Its return address is where FrameRules says.
template <typename Rules>
[[gnu::always_inline]] inline bool Walk<Rules>::vdso_frame(PhysicalFrame& frame) {
  // arm64: a vDSO function without a frame record of its own yet (its frame pointer is still the
  // Go caller's, on the goroutine's stack, not just above sp) returns through LR.
  if constexpr (Rules::kLeafReturnInLr) {
    const bool own_record = fp_ >= sp_ && fp_ - sp_ < kVdsoFrameReach;
    const uint64_t lr = Rules::strip_signature(lr_);
    if (!own_record && lr != 0 && is_return_into_vdso_caller(lr)) {
      frame.fp = sp_;
      move_to_caller(lr, sp_);
      exact_ = false;
      return true;
    }
  }
  auto pushed = memory_.read_u64(sp_);
  uint64_t slots[2];
  int count = Rules::vdso_leaf_return_slots(sp_, pushed && *pushed == fp_, slots);
  for (int i = 0; i < count; ++i) {
    auto ret = return_into_vdso_caller(slots[i]);
    if (!ret) continue;
    frame.fp = slots[i] + Rules::kCallBytes;
    move_to_caller(*ret, frame.fp);
    exact_ = false;
    return true;
  }
  return false;
}

// Whether pc_ is in the kernel's signal-return trampoline (FrameRules::is_sigreturn_trampoline): at its first
// or second instruction, or right after its svc (the sample came while the kernel ran rt_sigreturn). The
// code is read from the module's file, or, in code of no file (the vDSO), from memory.
template <typename Rules>
bool Walk<Rules>::at_sigreturn_trampoline() {
  constexpr uint64_t kInsn = 4, kBytes = 8;
  auto ref = lookup(space_, modules_, pc_);
  for (uint64_t back = 0; back <= kBytes && back <= pc_; back += kInsn) {
    if (ref) {
      if (back > ref->link_pc) break;
      auto code = ref->module->elf().read(ref->link_pc - back, kBytes);
      if (code && Rules::is_sigreturn_trampoline(*code)) return true;
      continue;
    }
    std::array<uint8_t, kBytes> code{};
    if (memory_.read(pc_ - back, code) && Rules::is_sigreturn_trampoline(code)) return true;
  }
  return false;
}

// A signal handler returned into the trampoline: the walk goes on from the registers the signal interrupted
// (on another stack, which the sampled copy may not hold), the pc exact and LR still the interrupted
// function's, as for a sample's innermost frame.
template <typename Rules>
bool Walk<Rules>::signal_return_frame(PhysicalFrame& frame) {
  // The handler returned into the trampoline through LR, which still holds its address: no code is read
  // for a pc that is not within its two instructions of LR.
  if constexpr (!Rules::kLeafReturnInLr) return false;
  const uint64_t lr = Rules::strip_signature(lr_);
  if (pc_ < lr || pc_ - lr > 8 || !at_sigreturn_trampoline()) return false;
  auto ctx = Rules::sigreturn_context(memory_, sp_);
  if (!ctx) return false;
  frame.fp = sp_;
  pc_ = ctx->pc;
  sp_ = ctx->sp;
  fp_ = ctx->fp;
  lr_ = ctx->lr;
  lo_ = hi_ = 0;  // a stack the walk has no bounds for
  exact_ = true;
  from_stack_ = true;
  return true;
}

// A C frame (or unknown code): frame pointers, validated, as the runtime's cgo traceback does not but
// every C unwinder without unwind tables must (a frame record is [saved fp, return address]); on
// failure the walk resumes on the goroutine stack.
template <typename Rules>
[[gnu::always_inline]] inline typename Walk<Rules>::Step Walk<Rules>::c_frame(const PcInfo& info, PhysicalFrame& frame) {
  ++n_;
  if (info.where == PcInfo::Where::kUnknown) {
    if (resume_after_c_frame()) return Step::kNext;
    return stop(StopReason::kUnknownPc);
  }
  if (innermost_ && signal_return_frame(frame)) return Step::kNext;
  if (innermost_ && vdso_frame(frame)) return Step::kNext;
  const uint64_t ptr = 8;
  bool ok = fp_ != 0 && (fp_ & 7) == 0 && fp_ >= sp_ && in_bounds(fp_, lo_, hi_);
  uint64_t next_pc = 0, next_fp = 0;
  if (ok) {
    auto r = memory_.read_u64(fp_ + ptr);
    auto b = memory_.read_u64(fp_);
    ok = r && b;
    if (ok) {
      next_pc = Rules::strip_signature(*r);
      next_fp = *b;
      ok = next_pc == 0 || is_code(space_, next_pc);
    }
  }
  if (!ok) {
    if (resume_after_c_frame()) return Step::kNext;
    return stop(StopReason::kBadFrame);
  }
  if (next_pc == 0) {
    if (resume_after_c_frame()) return Step::kNext;
    return stop(StopReason::kZeroPc);
  }
  frame.fp = fp_ + 2 * ptr;
  move_to_caller(next_pc, frame.fp);
  fp_ = next_fp;
  exact_ = false;
  return Step::kNext;
}

}  // namespace

// One walk loop per architecture's FrameRules (frame_rules.h), chosen once per walk.
WalkResult StackWalker::walk(const RegisterSet& regs, const WalkOptions& options, std::span<PhysicalFrame> out) const {
  ModuleCache modules;
  switch (regs.arch) {
    case Arch::kArm64: return Walk<Arm64FrameRules>(memory_, space_, cache_, regs, options, out, modules).run();
    case Arch::kAmd64: break;
  }
  return Walk<Amd64FrameRules>(memory_, space_, cache_, regs, options, out, modules).run();
}

}  // namespace goperf::unwind

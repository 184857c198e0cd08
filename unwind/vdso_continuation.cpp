// After the vDSO: a clock read sampled by the perf backend. The copy is of g0's stack, where the vDSO runs,
// and the walk stops at the vDSO caller (FuncKind::kVdsoCall: runtime.nanotime1, time.now), whose frame is
// on the goroutine's stack, outside the copy. Its callers come from the kernel's frame-pointer walk of user
// space, taken at the sample (RawSample::user_chain, PERF_SAMPLE_CALLCHAIN): the vDSO caller's frame record
// and every Go caller's stay on the goroutine's stack (sys_linux_amd64.s nanotime1 moves SP, not BP;
// sys_linux_arm64.s walltime moves RSP, not R29), so the frame pointer chains through them. Nothing is read from the
// process later: a goroutine that has run on since the sample leaves stale frames below its new sp, which a
// later read can chain into another stack. The eBPF backend copies the goroutine's part at the sample
// (RawSample::stack2) and never gets here.
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/frame_rules_amd64.h"
#include "unwind/frame_rules_arm64.h"
#include "unwind/return_address.h"
#include "unwind/sample_continuations.h"

namespace goperf::unwind {
namespace {

// One entry of the chain: a return address into Go code right after a call (or goexit's fake one), the
// function it returns into, and the call's target when the call is direct.
struct ChainCaller {
  const symbolize::Module* module = nullptr;
  symbolize::FuncInfo func;
  std::optional<uint64_t> direct_target;  // link-time entry (in `module`) of the function called

  // Whether the call is a direct one to the function at link-time `entry` of `m`.
  bool calls(const symbolize::Module* m, uint64_t entry) const { return module == m && direct_target == entry; }
};

std::optional<ChainCaller> go_caller_at(const AddressSpace& space, uint64_t ret, Arch arch) {
  if (ret < kMaxCallBytes) return std::nullopt;
  auto ref = space.find(ret - 1);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  auto f = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (!f) return std::nullopt;
  // goexit's entry + PCQuantum: the return address newproc pushes under every goroutine (proc.go
  // newproc1, gostartcallfn), after no call.
  if (f->kind == symbolize::FuncKind::kGoexit) {
    if (ref->link_pc + 1 - f->entry > 4) return std::nullopt;
    return ChainCaller{ref->module, *f, std::nullopt};
  }
  const uint64_t link_ret = ref->link_pc + 1, len = std::min<uint64_t>(kMaxCallBytes, link_ret - f->entry);
  auto code = ref->module->elf().read(link_ret - len, len);
  if (!code || !follows_call(arch, *code)) return std::nullopt;
  return ChainCaller{ref->module, *f, direct_call_target(arch, *code, link_ret)};
}

bool ends_a_stack(const symbolize::FuncInfo& f) {
  return f.kind == symbolize::FuncKind::kGoexit || (f.flag & symbolize::Pclntab::kFlagTopFrame);
}

}  // namespace

bool vdso_callers_from_kernel_walk(Arch arch) {
  switch (arch) {
    case Arch::kArm64: return Arm64FrameRules::kVdsoCallerFrameRecord;
    case Arch::kAmd64: break;
  }
  return Amd64FrameRules::kVdsoCallerFrameRecord;
}

WalkResult continue_after_vdso(const SampleTarget& target, const RawSample& s, std::span<PhysicalFrame> out,
                               WalkResult result) {
  const size_t n = result.count;
  const Arch arch = s.user_regs.arch;
  if (result.reason != StopReason::kUnreadable || n == 0 || s.user_chain.size() < 2 ||
      !vdso_callers_from_kernel_walk(arch)) {
    return result;
  }
  const PhysicalFrame& last = out[n - 1];
  auto ref = target.space->find(last.pc);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  auto caller = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (!caller || caller->kind != symbolize::FuncKind::kVdsoCall) return result;
  // The chain starts at the sampled pc and may hold the vDSO's own frames (and its return into the vDSO
  // caller) before the vDSO caller's return address: the first entry after a direct call to the caller.
  size_t i = 1;
  std::optional<ChainCaller> c;
  for (; i < s.user_chain.size(); ++i) {
    c = go_caller_at(*target.space, s.user_chain[i], arch);
    if (c && c->calls(ref->module, caller->entry)) break;
  }
  for (size_t k = n; i < s.user_chain.size() && k < out.size();) {
    out[k] = PhysicalFrame{};
    out[k].pc = s.user_chain[i];
    out[k].is_go = true;
    ++k;
    if (ends_a_stack(c->func)) return {k, StopReason::kTopFrame};
    if (++i == s.user_chain.size()) break;
    const ChainCaller callee = *c;
    c = go_caller_at(*target.space, s.user_chain[i], arch);
    if (!c) return result;  // not a Go return address: a frame pointer that is no frame record
    // A direct call must be to the frame below: a function that keeps no frame record (an assembly
    // function with a zero-size frame) is skipped by the frame-pointer chain, and its caller with it.
    if (c->direct_target && !c->calls(callee.module, callee.func.entry)) return result;
  }
  return result;  // the chain ended (or was cut at perf_event_max_stack) short of a root
}

}  // namespace goperf::unwind

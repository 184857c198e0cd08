// After cgo: a sample in C code called through cgo ends on the system stack at runtime.asmcgocall
// (FuncKind::kAsmcgocall). Its frame holds the goroutine and the depth of the goroutine's sp below
// g.stack.hi, at the architecture's slots (asmcgocall_frame.h: asmcgocall_frame_{amd64,arm64}.cpp);
// at that depth is the return address into runtime.cgocall. The eBPF backend copies the goroutine's stack
// at the sample and switches there in the walk; the perf backend's copy is of g0's stack only. Its
// goroutine frames come from the kernel's frame-pointer walk at the sample (kernel_chain.h) where that
// checks out: the C function's frame record (or the frame pointer it left alone) chains to cgocall's on the
// goroutine's stack. Read from the process later, the goroutine may have returned from the call and made
// another at the same depth from elsewhere, which a live walk would name instead. A live walk only
// completes a chain cut short, and must agree with the part of it that checks out; with no such part
// (arm64, whose kernel walk does not follow a frame record to a lower stack) the sample ends here.
#include <algorithm>
#include <vector>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/asmcgocall_frame.h"
#include "unwind/kernel_chain.h"
#include "unwind/memory.h"
#include "unwind/sample_continuations.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kMaxDepth = 1ULL << 30;  // a goroutine stack is at most 1 GB (runtime maxstacksize)

// Whether pc is a return address into a Go function (looked up at pc-1, as a return address is).
bool is_go_return_address(const AddressSpace& space, uint64_t pc) {
  return go_function_at(space, PhysicalFrame{.pc = pc}).has_value();
}

// The return address into asmcgocall's caller and the caller's sp, from gsp (asmcgocall_frame.h): the first
// slot that returns into a Go function.
std::optional<RegisterSet> cgocall_frame(const SampleTarget& target, uint64_t gsp, Arch arch,
                                         const AsmcgocallSaved& saved) {
  for (uint64_t i = 0; i < saved.return_slots; ++i) {
    const uint64_t slot = gsp + 8 * i;
    auto word = target.live->read_u64(slot);
    if (!word || !is_go_return_address(*target.space, *word)) continue;
    RegisterSet regs;
    regs.arch = arch;
    regs.pc = *word;
    regs.sp = slot + saved.caller_sp_above_slot;
    return regs;
  }
  return std::nullopt;
}

// cgocall's callers from the kernel's walk at the sample, as far as they check out (to a root: whole);
// nothing when the chain holds no return address after a direct call to cgocall.
std::optional<ChainFrames> cgocall_callers_in_chain(const SampleTarget& target, const RawSample& s, Arch arch,
                                                    uint64_t cgocall_ret, std::span<PhysicalFrame> out) {
  auto ref = target.space->find(cgocall_ret - 1);
  auto cgocall = go_function_at(*target.space, PhysicalFrame{.pc = cgocall_ret});
  if (!ref || !cgocall) return std::nullopt;
  return callers_in_chain(*target.space, s.user_chain, arch, ref->module, cgocall->entry, out);
}

// The goroutine's frames from cgocall up, walked in the live process (out[0] is cgocall's).
WalkResult walk_live(const SampleTarget& target, const RegisterSet& regs, const GStack& stack,
                     std::span<PhysicalFrame> out) {
  StackWalker walker(*target.live, *target.space, target.pc_cache);
  WalkOptions wo;
  wo.innermost_exact = false;
  wo.stack_lo = stack.lo;
  wo.stack_hi = stack.hi;
  return walker.walk(regs, wo, out);
}

bool same_pcs(std::span<const PhysicalFrame> a, std::span<const PhysicalFrame> b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) { return x.pc == y.pc; });
}

}  // namespace

WalkResult continue_after_cgo(const SampleTarget& target, const Memory& window, const RawSample& s, Arch arch,
                              std::span<PhysicalFrame> out, WalkResult result) {
  const std::optional<AsmcgocallSaved> saved = asmcgocall_saved(arch);
  if (!saved) return result;
  const size_t n = result.count;
  const PhysicalFrame& last = out[n - 1];
  auto f = go_function_at(*target.space, last);
  if (!f || f->kind != symbolize::FuncKind::kAsmcgocall || out.size() < n + 2) return result;
  // Go 1.26 calls C through asmcgocall_landingpad, which realigns SP: look for the saved pair in the first
  // words above the last frame, and accept it only if it checks out against the g.
  for (uint64_t at = last.sp - 16; at <= last.sp + saved->scan_above; at += 8) {
    auto depth = window.read_u64(at + saved->depth);
    auto g = window.read_u64(at + saved->g);
    if (!depth || !g || *g == 0 || *depth == 0 || *depth > kMaxDepth) continue;
    auto stack = read_g_stack(*target.live, target.layout ? &target.layout->g : nullptr, *g);
    if (!stack || stack->hi <= *depth || stack->hi - *depth < stack->lo) continue;
    auto regs = cgocall_frame(target, stack->hi - *depth, arch, *saved);
    if (!regs) continue;
    std::span<PhysicalFrame> above = out.subspan(n + 1);  // cgocall's callers
    auto chain = cgocall_callers_in_chain(target, s, arch, regs->pc, above);
    if (chain && chain->root) {
      out[n] = PhysicalFrame{};
      out[n].pc = regs->pc;
      out[n].sp = regs->sp;
      out[n].is_go = true;
      return {n + 1 + chain->count, StopReason::kTopFrame};
    }
    // Without a checked part of the chain nothing says the goroutine is still in this call (arm64's kernel
    // walk stops where the frame records go from g0's stack down to the goroutine's): its frames are unknown.
    if (!chain || chain->count == 0) return result;
    // The chain's checked part, kept aside: the live walk below writes over it.
    std::vector<PhysicalFrame> sure(above.begin(), above.begin() + static_cast<std::ptrdiff_t>(chain->count));
    WalkResult more = walk_live(target, *regs, *stack, out.subspan(n));
    if (more.count < 1 + sure.size() || !same_pcs(out.subspan(n + 1, sure.size()), sure)) {
      return result;  // the goroutine has moved on since the sample: its frames then are unknown
    }
    more.count += n;
    return more;
  }
  return result;
}

}  // namespace goperf::unwind

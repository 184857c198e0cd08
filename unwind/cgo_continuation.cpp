// After cgo: a sample in C code called through cgo ends on the system stack at runtime.asmcgocall
// (FuncKind::kAsmcgocall). Its frame holds the goroutine and the depth of the goroutine's sp below
// g.stack.hi, at the architecture's slots (asmcgocall_frame.h: asmcgocall_frame_{amd64,arm64}.cpp);
// at that depth is the return address into runtime.cgocall. The goroutine is blocked in the call, so its
// stack is read live, unchanged.
#include <algorithm>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/asmcgocall_frame.h"
#include "unwind/memory.h"
#include "unwind/sample_continuations.h"

namespace goperf::unwind {
namespace {

constexpr size_t kMaxCachedCalls = 4096;
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

}  // namespace

WalkResult continue_after_cgo(const SampleTarget& target, const Memory& window, CgoFrameCache& cache, Arch arch,
                              std::span<PhysicalFrame> out, WalkResult result) {
  const std::optional<AsmcgocallSaved> saved = asmcgocall_saved(arch);
  if (!saved) return result;
  const size_t n = result.count;
  const PhysicalFrame& last = out[n - 1];
  auto f = go_function_at(*target.space, last);
  if (!f || f->kind != symbolize::FuncKind::kAsmcgocall) return result;
  // Go 1.26 calls C through asmcgocall_landingpad, which realigns SP: look for the saved pair in the first
  // words above the last frame, and accept it only if it checks out against the g.
  for (uint64_t at = last.sp - 16; at <= last.sp + saved->scan_above; at += 8) {
    auto depth = window.read_u64(at + saved->depth);
    auto g = window.read_u64(at + saved->g);
    if (!depth || !g || *g == 0 || *depth == 0 || *depth > kMaxDepth) continue;
    if (auto it = cache.find({*g, *depth}); it != cache.end()) {
      size_t k = std::min(it->second.size(), out.size() - n);
      std::copy_n(it->second.begin(), k, out.begin() + static_cast<std::ptrdiff_t>(n));
      return {n + k, StopReason::kTopFrame};
    }
    auto stack = read_g_stack(*target.live, target.layout ? &target.layout->g : nullptr, *g);
    if (!stack || stack->hi <= *depth || stack->hi - *depth < stack->lo) continue;
    auto regs = cgocall_frame(target, stack->hi - *depth, arch, *saved);
    if (!regs) continue;
    StackWalker walker(*target.live, *target.space, target.pc_cache);
    WalkOptions wo;
    wo.innermost_exact = false;
    wo.stack_lo = stack->lo;
    wo.stack_hi = stack->hi;
    auto more = walker.walk(*regs, wo, out.subspan(n));
    if (more.complete()) {
      if (cache.size() >= kMaxCachedCalls) cache.clear();
      cache[{*g, *depth}].assign(out.begin() + static_cast<std::ptrdiff_t>(n),
                                 out.begin() + static_cast<std::ptrdiff_t>(n + more.count));
    }
    more.count += n;
    return more;
  }
  return result;
}

}  // namespace goperf::unwind

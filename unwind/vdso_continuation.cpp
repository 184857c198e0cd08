// After the vDSO: a vDSO call sampled by the perf backend. The copy is of g0's stack, where the vDSO runs,
// and the walk stops at the vDSO caller (FuncKind::kVdsoCall: runtime.nanotime1, time.now), whose frame is
// on the goroutine's stack (StackWalker follows the frame pointer there). That stack is read live: the
// goroutine has run on since the sample, so the return address found above the caller's frame must still
// follow a direct call to that function (decoded from the executable, return_address.h), and the walk must
// reach the goroutine's top frame. The eBPF backend copies the goroutine's part at the sample
// (RawSample::stack2) and never gets here.
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/frame_rules_amd64.h"
#include "unwind/frame_rules_arm64.h"
#include "unwind/memory.h"
#include "unwind/return_address.h"
#include "unwind/sample_continuations.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kFrameRecord = 16;  // [saved frame pointer, return address]

// Whether the call that returns to `ret` is a direct call to the function at link-time `entry` of `module`.
bool calls(const AddressSpace& space, const symbolize::Module& module, uint64_t ret, uint64_t entry, Arch arch) {
  if (ret < kMaxCallBytes) return false;
  auto site = space.find(ret - 1);  // the call's last byte
  if (!site || site->module != &module) return false;
  uint64_t link_ret = site->link_pc + 1;
  auto code = module.elf().read(link_ret - kMaxCallBytes, kMaxCallBytes);
  if (!code) return false;
  auto target = direct_call_target(arch, *code, link_ret);
  return target && *target == entry;
}

bool vdso_caller_frame_record(Arch arch) {
  switch (arch) {
    case Arch::kArm64: return Arm64FrameRules::kVdsoCallerFrameRecord;
    case Arch::kAmd64: break;
  }
  return Amd64FrameRules::kVdsoCallerFrameRecord;
}

}  // namespace

WalkResult continue_after_vdso(const SampleTarget& target, Arch arch, std::span<PhysicalFrame> out, WalkResult result) {
  const size_t n = result.count;
  if (result.reason != StopReason::kUnreadable || n == 0 || !vdso_caller_frame_record(arch)) return result;
  const PhysicalFrame& last = out[n - 1];
  auto ref = target.space->find(last.pc);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  auto f = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (!f || f->kind != symbolize::FuncKind::kVdsoCall || last.fp < kFrameRecord) return result;
  uint64_t bp = last.fp - kFrameRecord;
  auto ret = target.live->read_u64(bp + 8);
  auto caller_bp = target.live->read_u64(bp);
  if (!ret || !caller_bp) return result;
  if (!calls(*target.space, *ref->module, *ret, f->entry, arch)) return result;
  RegisterSet regs;
  regs.arch = arch;
  regs.pc = *ret;
  regs.sp = bp + kFrameRecord;
  regs.fp = *caller_bp;
  StackWalker walker(*target.live, *target.space, target.pc_cache);
  WalkOptions wo;
  wo.innermost_exact = false;
  auto more = walker.walk(regs, wo, out.subspan(n));
  if (!more.complete()) return result;
  more.count += n;
  return more;
}

}  // namespace goperf::unwind

// arm64 perf register numbers (arch/arm64/include/uapi/asm/perf_regs.h): x28 (the current g in Go's
// ABIInternal), x29 (frame pointer), lr, sp and pc.
#include "unwind/perf_registers.h"

namespace goperf::unwind {
namespace {

constexpr int kX28 = 28, kX29 = 29, kLr = 30, kSp = 31, kPc = 32;

// Ascending bit order: x28, x29, lr, sp, pc.
void to_register_set(std::span<const uint64_t> v, RegisterSet& regs) {
  regs.arch = Arch::kArm64;
  regs.g = v[0];
  regs.fp = v[1];
  regs.lr = v[2];
  regs.sp = v[3];
  regs.pc = v[4];
}

}  // namespace

const PerfRegisters& arm64_perf_registers() {
  static const PerfRegisters regs{
      (1ULL << kX28) | (1ULL << kX29) | (1ULL << kLr) | (1ULL << kSp) | (1ULL << kPc), 5, &to_register_set};
  return regs;
}

}  // namespace goperf::unwind

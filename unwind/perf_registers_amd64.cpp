// x86-64 perf register numbers (arch/x86/include/uapi/asm/perf_regs.h): the walker needs ip, sp, bp and
// r14 (the current g in Go's ABIInternal).
#include "unwind/perf_registers.h"

namespace goperf::unwind {
namespace {

constexpr int kBp = 6, kSp = 7, kIp = 8, kR14 = 22;

// Ascending bit order: bp, sp, ip, r14.
void to_register_set(std::span<const uint64_t> v, RegisterSet& regs) {
  regs.arch = Arch::kAmd64;
  regs.fp = v[0];
  regs.sp = v[1];
  regs.pc = v[2];
  regs.g = v[3];
}

}  // namespace

const PerfRegisters& amd64_perf_registers() {
  static const PerfRegisters regs{(1ULL << kBp) | (1ULL << kSp) | (1ULL << kIp) | (1ULL << kR14), 4,
                                  &to_register_set};
  return regs;
}

}  // namespace goperf::unwind

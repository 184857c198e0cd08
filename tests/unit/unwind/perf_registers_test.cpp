// The perf user-register tables (unwind/perf_registers.h) against the kernel's numbering
// (arch/x86/include/uapi/asm/perf_regs.h, arch/arm64/include/uapi/asm/perf_regs.h).
#include "unwind/perf_registers.h"

#include <gtest/gtest.h>

#include <bit>

namespace goperf::unwind {
namespace {

TEST(PerfRegisters, Amd64AsksForBpSpIpR14AndReadsThemInBitOrder) {
  const PerfRegisters& r = amd64_perf_registers();
  EXPECT_EQ(r.mask, (1ULL << 6) | (1ULL << 7) | (1ULL << 8) | (1ULL << 22));
  EXPECT_EQ(r.count, static_cast<size_t>(std::popcount(r.mask)));
  const uint64_t v[] = {0xb0, 0x5b, 0x1b, 0x14};
  RegisterSet regs;
  r.to_register_set(std::span<const uint64_t>(v), regs);
  EXPECT_EQ(regs.arch, Arch::kAmd64);
  EXPECT_EQ(regs.fp, 0xb0u);
  EXPECT_EQ(regs.sp, 0x5bu);
  EXPECT_EQ(regs.pc, 0x1bu);
  EXPECT_EQ(regs.g, 0x14u);
}

TEST(PerfRegisters, Arm64AsksForX28FpLrSpPcAndReadsThemInBitOrder) {
  const PerfRegisters& r = arm64_perf_registers();
  EXPECT_EQ(r.mask, (1ULL << 28) | (1ULL << 29) | (1ULL << 30) | (1ULL << 31) | (1ULL << 32));
  EXPECT_EQ(r.count, static_cast<size_t>(std::popcount(r.mask)));
  const uint64_t v[] = {0x28, 0x29, 0x30, 0x31, 0x32};
  RegisterSet regs;
  r.to_register_set(std::span<const uint64_t>(v), regs);
  EXPECT_EQ(regs.arch, Arch::kArm64);
  EXPECT_EQ(regs.g, 0x28u);
  EXPECT_EQ(regs.fp, 0x29u);
  EXPECT_EQ(regs.lr, 0x30u);
  EXPECT_EQ(regs.sp, 0x31u);
  EXPECT_EQ(regs.pc, 0x32u);
  EXPECT_LE(r.count, kMaxPerfRegisters);
}

TEST(PerfRegisters, HostTableIsTheBuildArchitectures) {
  EXPECT_EQ(&perf_registers(host_arch()), host_arch() == Arch::kArm64 ? &arm64_perf_registers() : &amd64_perf_registers());
}

}  // namespace
}  // namespace goperf::unwind

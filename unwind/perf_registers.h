// The user registers a perf sample carries (PERF_SAMPLE_REGS_USER, perf_event_open(2)): which ones the
// walker asks for, as the architecture numbers them (arch/*/include/uapi/asm/perf_regs.h), and how their
// values, which come in ascending bit order of the mask, become a RegisterSet. One table per
// architecture: perf_registers_amd64.cpp, perf_registers_arm64.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "unwind/register_set.h"

namespace goperf::unwind {

constexpr size_t kMaxPerfRegisters = 8;

struct PerfRegisters {
  uint64_t mask = 0;  // perf_event_attr.sample_regs_user
  size_t count = 0;   // values a sample carries for it
  // values: `count` of them, as the sample lists them; sets pc, sp, fp, lr and g.
  void (*to_register_set)(std::span<const uint64_t> values, RegisterSet& regs) = nullptr;
};

const PerfRegisters& perf_registers(Arch arch);
const PerfRegisters& amd64_perf_registers();
const PerfRegisters& arm64_perf_registers();

// The architecture goperf was built for: the one a live process on this host runs.
constexpr Arch host_arch() {
#if defined(__aarch64__)
  return Arch::kArm64;
#else
  return Arch::kAmd64;
#endif
}

}  // namespace goperf::unwind

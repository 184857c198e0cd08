// RegisterSet: the registers the walker needs, for one architecture, from perf, ptrace, a core or g.sched.
#pragma once

#include <cstdint>

namespace goperf::unwind {

enum class Arch : uint8_t { kAmd64, kArm64 };

struct RegisterSet {
  Arch arch = Arch::kAmd64;
  uint64_t pc = 0;
  uint64_t sp = 0;
  uint64_t fp = 0;       // rbp / x29
  uint64_t lr = 0;       // x30 on arm64; 0 on amd64
  uint64_t g = 0;        // r14 (amd64) / x28 (arm64): the current g in Go ABIInternal code
  uint64_t tls_base = 0; // fs_base (amd64) / tpidr_el0 (arm64), 0 when unknown
};

}  // namespace goperf::unwind

// perf_registers(Arch): the one place that picks an architecture's perf register table.
#include "unwind/perf_registers.h"

namespace goperf::unwind {

const PerfRegisters& perf_registers(Arch arch) {
  return arch == Arch::kArm64 ? arm64_perf_registers() : amd64_perf_registers();
}

}  // namespace goperf::unwind

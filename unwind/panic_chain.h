// PanicChain: a goroutine's active panics, read from memory as the runtime keeps them: g._panic, then each
// _panic.link (src/runtime/panic.go gopanic, printpanics). The values are what preprintpanics left there:
// by the time a panic kills the process, an error or Stringer argument has been replaced by the string its
// method returned, so a core holds the very text the runtime printed.
#pragma once

#include <cstdint>
#include <vector>

#include "symbolize/result.h"

namespace goperf::unwind {

class Memory;
struct GoRuntimeLayout;

struct PanicRecord {
  uint64_t addr = 0;                // the _panic, on the goroutine's stack
  uint64_t type = 0, data = 0;      // the argument: an eface {*_type, data}; type 0 is panic(nil) before 1.21
  bool recovered = false, repanicked = false, goexit = false;
};

// Newest first. Empty when the goroutine is not panicking. kInvalidArgument when a record does not look like a
// _panic of this layout (not on the stack [stack_lo, stack_hi), a flag that is not 0 or 1, a cycle): the table
// is wrong for this build, and nothing is printed from it.
Result<std::vector<PanicRecord>> read_panic_chain(const Memory& memory, const GoRuntimeLayout& layout, uint64_t g_addr,
                                                  uint64_t stack_lo, uint64_t stack_hi);

}  // namespace goperf::unwind

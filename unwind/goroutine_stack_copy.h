// What a snapshot copies of each goroutine's stack, and an estimate of the bytes it will take, read from
// the runtime's g's by the layout (so that the copy's memory is ready before the target is stopped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "unwind/go_runtime_layout.h"

namespace goperf::unwind {

class Memory;
class ProcessMemory;

// The length of runtime.allgs (a []*g) at `allgs` (the slice header's address, bias applied).
std::optional<uint64_t> allgs_length(const Memory& mem, uint64_t allgs);

// The part of a goroutine's stack a snapshot copies: from its saved sp up (sched or syscall state);
// all of it when it runs (its sp is in its thread's registers, not in g.sched).
std::pair<uint64_t, uint64_t> stack_to_copy(uint64_t lo, uint64_t hi, uint64_t sched_sp, uint64_t syscallsp,
                                            uint32_t base_status);

// Bytes the stack copies will take, estimated before the stop from a sample of the goroutines (read
// while the target runs: only the size matters), with a margin and room for the threads' stacks.
size_t estimate_stack_bytes(const ProcessMemory& mem, uint64_t allgs, const GLayout& gl);

}  // namespace goperf::unwind

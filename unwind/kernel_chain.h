// The Go callers in the kernel's frame-pointer walk of user space, taken at a sample
// (RawSample::user_chain, PERF_SAMPLE_CALLCHAIN): where the sampled copy does not reach the goroutine's
// stack (a vDSO call, a cgo call on g0), its frame records still chain the goroutine's callers as they were
// at the sample. An entry is taken only if it checks out: a return address into Go code right after a call,
// the call (when direct) to the frame below; a frame pointer that is no frame record fails these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "symbolize/pclntab.h"
#include "unwind/register_set.h"
#include "unwind/stack_walker.h"

namespace goperf::symbolize {
class Module;
}

namespace goperf::unwind {

class AddressSpace;

struct ChainFrames {
  size_t count = 0;   // frames written, each checked against the one below
  bool root = false;  // the last is a root (goexit or a TOPFRAME function): the stack is whole
};

// The callers of the function at link-time `entry` of `module`: from the first entry of chain[1..] that
// returns into Go code right after a direct call to it, written to out as Go frames (return addresses)
// while each checks out against the frame below. Stops at a root, at the first entry that does not check
// out, or at the chain's end (perf_event_max_stack may cut it). Nothing when no entry calls the function.
std::optional<ChainFrames> callers_in_chain(const AddressSpace& space, std::span<const uint64_t> chain, Arch arch,
                                            const symbolize::Module* module, uint64_t entry,
                                            std::span<PhysicalFrame> out);

}  // namespace goperf::unwind

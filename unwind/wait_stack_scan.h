// Objects a goroutine waits on that the runtime keeps only in the frames of the parked goroutine (before
// Go 1.26 a semaphore's sudog and a sync.Cond; in every version an IO wait's pollDesc). Each word of the
// frame that holds it is a candidate, and a candidate counts only when the runtime's own links confirm it
// (the sudog's g is this goroutine; the notifyList holds its sudog; the pollDesc's self points to itself
// and its rg or wg holds this goroutine): nothing is guessed from a value that merely looks like a pointer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "symbolize/result.h"
#include "unwind/wait_objects.h"

namespace goperf::unwind {

// The semaphore address a goroutine parked in runtime.semacquire1 waits on (its sudog's elem; the sudog
// stays live across the park: sema.go semacquire1 reads s.ticket after it). nullopt: not found.
Result<std::optional<uint64_t>> sema_on_stack(const Memory& memory, uint64_t g, std::span<const WaitFrame> frames,
                                              const WaitLayout& layout);

// The sync.Cond a goroutine parked in sync.(*Cond).Wait waits on (c stays live across the park: cond.go
// Wait calls c.L.Lock after it), confirmed by the goroutine's sudog in c's notifyList. nullopt: not found.
Result<std::optional<uint64_t>> cond_on_stack(const Memory& memory, uint64_t g, std::span<const WaitFrame> frames,
                                              const WaitLayout& layout, WaitLists& lists);

// The pollDesc of a goroutine parked in runtime.netpollblock (internal/poll.runtime_pollWait keeps pd live
// across the park: netpoll.go), with its fd and whether the goroutine waits to read or to write.
Result<std::optional<WaitObject>> poll_desc_on_stack(const Memory& memory, uint64_t g,
                                                     std::span<const WaitFrame> frames, const WaitLayout& layout);

}  // namespace goperf::unwind

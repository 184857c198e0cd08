// The sync object behind a semaphore a goroutine waits on (sync.Mutex, RWMutex, WaitGroup: which one and
// which of its semaphores is told by the frames that called runtime.semacquire1), a sync.Cond, and the
// timer of time.Sleep, each with the state the runtime keeps in it.
#pragma once

#include <cstdint>
#include <span>

#include "symbolize/result.h"
#include "unwind/wait_objects.h"

namespace goperf::unwind {

// The object whose semaphore at `sema` the goroutine with `frames` waits on: a mutex, rwmutex or waitgroup
// with its state, or a plain "sema" (another user of runtime_Semacquire) with the semaphore's value.
Result<WaitObject> sync_object_of_sema(const Memory& memory, uint64_t sema, std::span<const WaitFrame> frames,
                                       const WaitLayout& layout);

// The sync.Cond at `cond` with the number of its waiters not yet notified.
Result<WaitObject> cond_object(const Memory& memory, uint64_t cond, const WaitLayout& layout);

// The timer of a goroutine parked in time.Sleep, firing at its deadline.
Result<WaitObject> sleep_timer(const Memory& memory, uint64_t g, const WaitLayout& layout);

// Index of the first frame named `function`, or frames.size().
size_t find_frame(std::span<const WaitFrame> frames, std::string_view function);

}  // namespace goperf::unwind

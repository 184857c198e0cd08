// Crossing a signal frame in a core: a Go program that crashes with GOTRACEBACK=crash dies inside its signal
// handler (sigtramp -> sigtrampgo -> sigfwdgo/sighandler -> dieFromSignal -> raise), so each such thread's
// registers describe the handler. The interrupted context is in the kernel's rt_sigframe on the signal stack,
// laid out per architecture (signal_frame_layout.h).
#pragma once

#include <cstdint>

#include "unwind/register_set.h"

namespace goperf::unwind {

class Memory;
class AddressSpace;

// The siginfo of a crossed frame: the signal that interrupted the thread.
struct CrossedSignal {
  int signo = 0, code = 0;
  uint64_t addr = 0;
};

// When `regs` is inside the Go signal handler (the walk from it reaches runtime.sigtramp or
// runtime.cgoSigtramp), replaces them with the interrupted context saved in the ucontext and returns
// true. Else leaves `regs` alone and returns false (also on an architecture without a SignalFrameLayout).
// `info`, when given, receives the siginfo of the crossed frame.
bool cross_signal_frame(const Memory& memory, const AddressSpace& space, RegisterSet& regs,
                        CrossedSignal* info = nullptr);

// A thread inside the Go signal handler, shown from where the signal hit: every nested handler frame crossed
// (a fatal signal's handler re-raises it, dieFromSignal; at most 4). The goroutine it interrupted is then
// walked from its own pc and sp, as if the handler had not run yet: a snapshot that stops a thread in the
// handler of a preemption signal (SIGURG, doSigPreempt) shows the goroutine's frames, not the handler's.
// Returns the signal of the outermost handler crossed (the first to hit); signo 0 when in no handler.
CrossedSignal cross_signal_frames(const Memory& memory, const AddressSpace& space, RegisterSet& regs);

}  // namespace goperf::unwind

// FatalMessage: the message of a Go fatal error, read back from the stack of the thread that threw it.
// runtime.throw(s) and runtime.fatal(s) print "fatal error: " + s from a closure run on the system stack
// (src/runtime/panic.go: `systemstack(func() { print("fatal error: ", s, "\n") })`, 1.19 - 1.27). systemstack
// does not let the closure escape, so its funcval {fn = runtime.throw.func1 / runtime.fatal.func1, captured
// variables...} stays in throw's or fatal's frame for as long as that frame lives, which is until the process
// dies (fatalthrow never returns). With the register ABI s itself is in no frame, but the closure's copy is.
#pragma once

#include <cstdint>
#include <string>

#include "symbolize/result.h"
#include "unwind/register_set.h"

namespace goperf::unwind {

class Memory;
class AddressSpace;
struct GoRuntimeLayout;
struct GoroutineInfo;
struct ThreadG;

struct FatalMessage {
  std::string text;         // s, exactly as passed to throw or fatal
  bool user = false;        // runtime.fatal (throwTypeUser: sync.fatal, map races, deadlock) rather than throw
  uint64_t g = 0;           // the goroutine whose stack holds the frame: dopanic_m's gp, whose g.sig it prints
  // fatal's captured `p := getg()._panic` (1.26, 1.27: the panics printPreFatalDeferPanic prints first); 0 otherwise.
  uint64_t panic_head = 0;
};

// Where the crashing thread is: its registers (past any signal frame), the g it runs on (`thread_g`, with
// its stack bounds), and when that is a system g (g0) the goroutine it runs for (m.curg) with its saved state.
struct FatalSearch {
  RegisterSet regs;
  uint64_t thread_g = 0, thread_stack_lo = 0, thread_stack_hi = 0;
  uint64_t thread_g_panic = 0;  // thread_g._panic
  uint64_t curg = 0, curg_stack_lo = 0, curg_stack_hi = 0;  // curg 0: none (or the thread runs curg itself)
  uint64_t curg_panic = 0;      // curg._panic
  RegisterSet curg_sched;       // curg.sched {pc, sp, bp}: where the walk continues after systemstack
};

// The search for the crashing thread: `regs` past any signal frame, `thread` its g (current_g), `curg` the
// goroutine m.curg when the thread runs on a system stack for it (nullptr when none, or the thread runs it).
FatalSearch fatal_search_for(const Memory& memory, const GoRuntimeLayout& layout, const RegisterSet& regs,
                             const ThreadG& thread, const GoroutineInfo* curg);

// The message of the runtime.throw or runtime.fatal frame on the crashing thread's stack (or its goroutine's).
// Found only when all of this holds: the frame is a physical frame of runtime.throw/runtime.fatal, a word of
// its frame is exactly the entry of the function named runtime.throw.func1/runtime.fatal.func1 (the same
// function's closure), and the captured string is readable, 1-4096 bytes, valid UTF-8 without control bytes
// other than newline and tab. kNotFound otherwise: the caller says the message is not in memory.
Result<FatalMessage> read_fatal_message(const Memory& memory, const AddressSpace& space, const FatalSearch& where);

}  // namespace goperf::unwind

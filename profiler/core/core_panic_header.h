// The lines of a core's header that the Go runtime printed when the process died: the panic chain as
// printpanics prints it (src/runtime/panic.go), and the signal's si_code by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace goperf::unwind {
class AddressSpace;
class Memory;
struct FatalSearch;
struct PanicRecord;
struct GoRuntimeLayout;
}  // namespace goperf::unwind

namespace goperf::profiler {

// "panic: boom [recovered]\n\tpanic: second\n" for a chain read newest first (unwind/panic_chain.h), in the
// runtime's order (oldest first, a tab before each later one, goexit records skipped, a repanicked value
// printed once). Values as printpanicval prints them; a kind the runtime prints that goperf does not (floats,
// complex numbers) is said in words, never guessed. `types_base`: moduledata.types of the program.
std::string format_panic_chain(const unwind::Memory& memory, const std::vector<unwind::PanicRecord>& newest_first,
                               uint64_t types_base, int go_minor);

// The panic chain of the goroutine g_addr (its stack [stack_lo, stack_hi)), formatted as above; "" when it is not
// panicking; a line saying why when the chain cannot be read with this layout.
std::string crashing_panic_text(const unwind::Memory& memory, const unwind::GoRuntimeLayout& layout, uint64_t g_addr,
                                uint64_t stack_lo, uint64_t stack_hi, uint64_t types_base);

// A fatal error's lines as the runtime printed them: "fatal error: concurrent map writes\n", preceded by the
// panics in progress when runtime.fatal prints them (1.26, 1.27) and followed by dopanic_m's "[signal ...]" line when
// the throwing goroutine's g.sig is set. The message is read from throw's or fatal's closure on the crashing
// thread's stack (unwind/fatal_message.h); "" when it cannot be read soundly (the caller then says so).
std::string fatal_error_text(const unwind::Memory& memory, const unwind::AddressSpace& space,
                             const unwind::GoRuntimeLayout& layout, const unwind::FatalSearch& where,
                             uint64_t types_base);

// si_code by the kernel's name (include/uapi/asm-generic/siginfo.h): "SI_TKILL", "SEGV_MAPERR", "BUS_ADRALN";
// the number in hex when the kernel has no name for it.
std::string signal_code_name(int signo, int code);

}  // namespace goperf::profiler

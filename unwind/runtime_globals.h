// RuntimeGlobals: link-time addresses of the Go runtime's globals that list goroutines and threads
// (runtime.allgs, allglen, allm, sched, waitReasonStrings), found in a STRIPPED binary: the functions
// that use them are found by name through the pclntab, and their RIP-relative operands are decoded
// with Capstone (src/runtime/proc.go allgadd, forEachG, gcount, mcommoninit, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "symbolize/result.h"

namespace goperf::symbolize {
class Module;
class ElfFile;
}  // namespace goperf::symbolize

namespace goperf::unwind {

class Memory;
struct GoRuntimeLayout;

struct RuntimeGlobals {
  // Link-time addresses (add the load bias of a PIE). 0 = not found.
  uint64_t allgs = 0;     // []*g slice header {ptr, len, cap}
  uint64_t allglen = 0;   // uintptr
  uint64_t allgptr = 0;   // **g (0 when not found; informational)
  uint64_t allm = 0;      // *m, list through m.alllink
  uint64_t sched = 0;     // runtime.sched (schedt); 0 when not found
  uint64_t firstmoduledata = 0;  // runtime.firstmoduledata (from the pclntab's moduledata), 0 if unknown
  // Offset of m.alllink read from mcommoninit's `mp.alllink = allm` store (0 when not seen): it checks
  // the layout tables, whose m fields after m.id are derived for Go 1.20 - 1.25.
  uint32_t m_alllink_offset = 0;
  // Offsets read from runtime.nanotime1 (sys_linux_amd64.s): `MOVQ g_m(R14), BX`, then it saves
  // m.vdsoPC / m.vdsoSP and compares m.curg with g. 0 when that code was not recognised.
  uint32_t g_m_offset = 0, m_vdso_pc_offset = 0, m_vdso_sp_offset = 0, m_curg_offset = 0;
  // How each address was found ("symtab" for the unstripped .symtab, else the anchor function).
  std::string source;
};

// Finds the globals of a Go module. Uses .symtab when present (exact), else disassembles the runtime
// functions found through the pclntab. kNotFound when allgs/allglen cannot be located (not a Go
// program, or an unknown code shape); allm may be 0 even on success.
Result<RuntimeGlobals> find_runtime_globals(const symbolize::Module& module);
// The same, ignoring .symtab (what a stripped build gives; tests compare both).
Result<RuntimeGlobals> find_runtime_globals_without_symbols(const symbolize::Module& module);

// Checks the globals against live memory (a process or core) of the module loaded at load_bias:
// allgs.len == allglen, allgs.len <= allgs.cap, and the first g's stack and goid are plausible.
Status validate_runtime_globals(const RuntimeGlobals& globals, const Memory& memory, uint64_t load_bias,
                                const GoRuntimeLayout& layout);

// runtime.waitReasonStrings of the binary (index = g.waitreason), found by scanning the data for the
// array of Go strings {"" , "GC assist marking", "IO wait", ...} (go-internals 4.6). Read from the
// file (applying R_X86_64_RELATIVE relocations of a PIE). Empty when not found: use the layout's table.
std::vector<std::string> find_wait_reasons(const symbolize::ElfFile& elf);

}  // namespace goperf::unwind

// The Go functions of a module, for code outside symbolize/ that needs a function's identity (name,
// kind, entry, flags), its file:line, or facts about the function table, without the pclntab's
// internals. All pcs are link-time addresses of the module (runtime pc minus the load bias).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "symbolize/frame.h"
#include "symbolize/func_info.h"
#include "symbolize/result.h"

namespace goperf::symbolize {

class Module;

// The Go function containing link_pc; nullopt outside Go code or for a module that is not Go.
std::optional<FuncInfo> find_go_func(const Module& module, uint64_t link_pc);
std::optional<FuncInfo> find_go_func_by_name(const Module& module, std::string_view name);
// file:line of f's own tables at link_pc (no inline expansion).
std::pair<std::string_view, int> go_file_line(const Module& module, const FuncInfo& f, uint64_t link_pc);

// Appends the frames at lookup_pc in f, innermost first: each inlined call, then f itself (as
// runtime.CallersFrames). Callers pass pc-1 for return addresses. Frame.pc and entry are link-time.
void go_frames(const Module& module, const FuncInfo& f, uint64_t lookup_pc, std::vector<Frame>& out);

// The pc Go 1.19/1.20's gentraceback hands printArgs for a frame at link_pc: the call site of the
// outermost call inlined there (entry + inlinedCall.parentPc, walked up the inline tree), since argument
// liveness is read at that pc; link_pc itself when nothing is inlined there.
uint64_t outermost_inline_call_pc(const Module& module, const FuncInfo& f, uint64_t link_pc);

// Why `module` (opened from `path`) has no Go function table: the loader's own error (it names the
// file), or "PATH: not a Go program (no Go function table)".
Error not_go_error(const Module& module, const std::string& path);

// The function table as `goperf info` shows it.
struct GoFunctionTableFacts {
  uint32_t magic = 0;               // 0xfffffff0 (Go 1.18-1.19) or 0xfffffff1 (1.20+)
  bool scanned = false;             // found by scanning segments, not by section name
  std::string_view section;         // ".gopclntab", ... or "" when scanned
  uint64_t vaddr = 0;               // link-time address of its header
  uint64_t text_start = 0;
  std::optional<uint64_t> moduledata_vaddr;
  size_t func_count = 0;
  uint64_t go_start = 0, go_end = 0;  // the first function's entry and the last one's end
  bool cgo_generated = false;       // a function of cgo's generated code (_cgo_, _Cfunc_, ...) is present
};
// nullopt for a module that is not Go. `is_cgo_generated` tells cgo's generated functions by name.
std::optional<GoFunctionTableFacts> go_function_table_facts(const Module& module,
                                                            bool (*is_cgo_generated)(std::string_view));

}  // namespace goperf::symbolize

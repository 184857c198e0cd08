// Arguments of a Go frame as the runtime's traceback prints them (src/runtime/traceback.go printArgs),
// decoded from FUNCDATA_ArgInfo with liveness from FUNCDATA_ArgLiveInfo.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace goperf::symbolize {
class Module;
struct FuncInfo;
}  // namespace goperf::symbolize
namespace goperf::unwind {
class Memory;
}

namespace goperf::profiler {

// What printArgs reads of the binary for one function at one pc: the same for every frame at that pc,
// so it is looked up once per pc. Spans point into the module's mapped file.
struct GoArgsProgram {
  std::span<const uint8_t> prog;  // FUNCDATA_ArgInfo; empty: the function has none (no arguments printed)
  std::span<const uint8_t> live;  // FUNCDATA_ArgLiveInfo; empty: every argument is live
  int32_t live_idx = -1;          // PCDATA_ArgLiveIndex at the pc
  uint8_t start_offset = 0xff;    // slots below it are always live
  uint16_t extent = 0;            // bytes of the argument area the program reads (one read per frame)
};

// `link_sym_pc` is the symbolic pc (pc-1 for return addresses) in the module's link-time terms.
GoArgsProgram go_args_program(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_sym_pc);

// Appends the arguments of a frame whose argument area (amd64: the caller's sp) is at runtime address
// `argp`. Nothing when the function has no ArgInfo; values the memory cannot supply print as "_".
void append_go_args(std::string& out, const GoArgsProgram& program, const unwind::Memory& memory, uint64_t argp);

// Both steps at once.
std::string format_go_args(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_sym_pc,
                           const unwind::Memory& memory, uint64_t argp);

}  // namespace goperf::profiler

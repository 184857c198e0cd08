// GoArgsProgram: what the runtime's traceback reads of a binary to print a Go frame's arguments
// (src/runtime/traceback.go printArgs): FUNCDATA_ArgInfo, FUNCDATA_ArgLiveInfo and PCDATA_ArgLiveIndex.
// Printing the values from a target's memory is the caller's (profiler/dump/goroutine_dump_args.h).
#pragma once

#include <cstdint>
#include <span>

#include "symbolize/func_info.h"

namespace goperf::symbolize {

class Module;

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

}  // namespace goperf::symbolize

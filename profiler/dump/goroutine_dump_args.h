// Arguments of a Go frame as the runtime's traceback prints them (src/runtime/traceback.go printArgs),
// decoded from FUNCDATA_ArgInfo with liveness from FUNCDATA_ArgLiveInfo.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "symbolize/go_args_program.h"

namespace goperf::unwind {
class Memory;
}

namespace goperf::profiler {

using symbolize::GoArgsProgram;
using symbolize::go_args_program;

// Appends the arguments of a frame whose argument area (amd64: the caller's sp) is at runtime address
// `argp`. Nothing when the function has no ArgInfo; values the memory cannot supply print as "_".
void append_go_args(std::string& out, const GoArgsProgram& program, const unwind::Memory& memory, uint64_t argp);

// Both steps at once.
std::string format_go_args(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_sym_pc,
                           const unwind::Memory& memory, uint64_t argp);

}  // namespace goperf::profiler

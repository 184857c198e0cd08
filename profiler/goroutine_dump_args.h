// Arguments of a Go frame as the runtime's traceback prints them (src/runtime/traceback.go printArgs),
// decoded from FUNCDATA_ArgInfo with liveness from FUNCDATA_ArgLiveInfo.
#pragma once

#include <cstdint>
#include <string>

namespace goperf::symbolize {
class Module;
struct FuncInfo;
}  // namespace goperf::symbolize
namespace goperf::unwind {
class Memory;
}

namespace goperf::profiler {

// `link_sym_pc` is the symbolic pc (pc-1 for return addresses) in the module's link-time terms, `argp`
// the runtime address of the frame's argument area (amd64: the caller's sp). "" when the function has
// no ArgInfo; values the memory cannot supply print as "_".
std::string format_go_args(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_sym_pc,
                           const unwind::Memory& memory, uint64_t argp);

}  // namespace goperf::profiler

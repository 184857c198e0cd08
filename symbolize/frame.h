// Frame: one symbolized stack frame, the value every layer passes from symbolize/ up to the output.
#pragma once

#include <cstdint>
#include <string_view>

namespace goperf::symbolize {

// Strings are views into the owning module's mapped file (or its name cache): they stay valid
// as long as the GoBinary / Symbolizer that produced the frame is alive.
struct Frame {
  uint64_t pc = 0;              // the address this frame was looked up for (as given by the caller)
  uint64_t entry = 0;           // entry address of the physical function, in the caller's address space
  std::string_view function;    // "" when unknown
  std::string_view file;        // "" when unknown
  int line = 0;                 // 0 when unknown
  int start_line = 0;           // line of the func keyword (Go 1.20+ pclntab), 0 when unknown
  bool inlined = false;         // an inlined call: not a physical frame, no pc offset of its own
  bool is_go = false;           // from the pclntab (else from ELF symbols, or unknown)

  bool known() const { return !function.empty(); }
};

}  // namespace goperf::symbolize

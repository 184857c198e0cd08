// GnuAddr2linePrinter: prints symbolized frames exactly as binutils addr2line does (its -a -f -i -p -s
// -C output shapes, "??" and "??:0" for unknown addresses). Takes Frames, never a symbolizer, so the
// text is tested apart from the lookup.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "symbolize/frame.h"

namespace goperf::profiler {

class GnuAddr2linePrinter {
 public:
  struct Config {
    bool addresses = false;  // -a
    bool functions = false;  // -f
    bool inlines = false;    // -i
    bool pretty = false;     // -p
    bool basenames = false;  // -s
    bool demangle = false;   // -C (native names only: Go names are never mangled)
  };
  explicit GnuAddr2linePrinter(Config config) : config_(config) {}

  // Appends the text for one address to `out`. `frames` are innermost first, as Module::symbolize
  // gives them; empty or a single unknown frame prints the "??" form.
  void print(uint64_t address, std::span<const symbolize::Frame> frames, std::string& out) const;

 private:
  Config config_;
};

// The C++ demangling of a native symbol name (abi::__cxa_demangle), or the name itself.
std::string demangle_native(std::string_view name);

}  // namespace goperf::profiler

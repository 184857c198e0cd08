// Printers of `goperf addr2line`: GnuAddr2linePrinter prints symbolized frames exactly as binutils
// addr2line does (its -a -f -i -p -s -C output shapes, "??" and "??:0" for unknown addresses);
// JsonAddr2linePrinter prints one JSON object per address (JSON Lines). Printers take Frames, never a
// symbolizer, so the text is tested apart from the lookup.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "symbolize/frame.h"

namespace goperf::profiler {

class Addr2linePrinter {
 public:
  virtual ~Addr2linePrinter() = default;
  // Appends the text for one address to `out`. `frames` are innermost first, as Module::symbolize
  // gives them; empty or a single unknown frame means the address is unknown.
  virtual void print(uint64_t address, std::span<const symbolize::Frame> frames, std::string& out) const = 0;
  // Whether the text shows the address: when it does not, addresses with the same frames share one text.
  virtual bool prints_address() const = 0;
};

class GnuAddr2linePrinter : public Addr2linePrinter {
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
  void print(uint64_t address, std::span<const symbolize::Frame> frames, std::string& out) const override;
  bool prints_address() const override { return config_.addresses; }

 private:
  Config config_;
};

// {"address":"0x..","frames":[{"function","file","line","start_line","entry","inlined","go"}]} per line, every
// inline level always (-f -i implied); -s and -C apply; an unknown address has no frames.
class JsonAddr2linePrinter : public Addr2linePrinter {
 public:
  JsonAddr2linePrinter(bool basenames, bool demangle) : basenames_(basenames), demangle_(demangle) {}
  void print(uint64_t address, std::span<const symbolize::Frame> frames, std::string& out) const override;
  bool prints_address() const override { return true; }

 private:
  bool basenames_, demangle_;
};

// The C++ demangling of a native symbol name (abi::__cxa_demangle), or the name itself.
std::string demangle_native(std::string_view name);

}  // namespace goperf::profiler

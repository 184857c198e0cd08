// binutils addr2line's output, reproduced from its translate_addresses (binutils/addr2line.c): the
// address line, then per frame "function" and "file:line" lines, or "function at file:line" with -p
// and " (inlined by) " before each caller. A known function without line information prints "??:?"
// (binutils' "line 0" case); an address that resolves to nothing prints "??" and "??:0".
#include "profiler/addr2line_printer.h"

#include <cxxabi.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace goperf::profiler {

std::string demangle_native(std::string_view name) {
  if (name.size() < 2 || name[0] != '_' || name[1] != 'Z') return std::string(name);
  std::string owned(name);
  int status = 0;
  char* d = abi::__cxa_demangle(owned.c_str(), nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return owned;
  std::string result(d);
  std::free(d);
  return result;
}

void GnuAddr2linePrinter::print(uint64_t address, std::span<const symbolize::Frame> frames,
                                std::string& out) const {
  if (config_.addresses) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%016" PRIx64, address);
    out += buf;
    out += config_.pretty ? ": " : "\n";
  }
  if (frames.empty() || !frames.front().known()) {
    if (config_.functions) out += config_.pretty ? "?? " : "??\n";
    out += "??:0\n";
    return;
  }
  size_t count = config_.inlines ? frames.size() : 1;
  for (size_t i = 0; i < count; ++i) {
    const symbolize::Frame& f = frames[i];
    if (i > 0 && config_.pretty) out += " (inlined by) ";
    if (config_.functions) {
      if (f.function.empty()) {
        out += "??";
      } else if (config_.demangle && !f.is_go) {
        out += demangle_native(f.function);
      } else {
        out += f.function;
      }
      out += config_.pretty ? " at " : "\n";
    }
    std::string_view file = f.file;
    if (file.empty()) {
      file = "??";
    } else if (config_.basenames) {
      size_t slash = file.rfind('/');
      if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
    }
    out += file;
    out += ':';
    if (f.line > 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%d", f.line);
      out += buf;
    } else {
      out += '?';
    }
    out += '\n';
  }
}

}  // namespace goperf::profiler

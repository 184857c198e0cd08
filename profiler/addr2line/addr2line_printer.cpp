// binutils addr2line's output, reproduced from its translate_addresses (binutils/addr2line.c): the
// address line, then per frame "function" and "file:line" lines, or "function at file:line" with -p
// and " (inlined by) " before each caller. A known function without line information prints "??:?"
// (binutils' "line 0" case); an address that resolves to nothing prints "??" and "??:0".
#include "profiler/addr2line/addr2line_printer.h"
#include "profiler/json_string.h"

#include <cxxabi.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace goperf::profiler {
namespace {

std::string_view base_name(std::string_view file) {
  size_t slash = file.rfind('/');
  return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

}  // namespace

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
  // The text is copied into room made once per address: a million addresses of appends one piece at a
  // time cost more than looking them up.
  size_t count = frames.empty() || !frames.front().known() ? 0 : config_.inlines ? frames.size() : 1;
  size_t room = 40;
  for (size_t i = 0; i < count; ++i) room += frames[i].function.size() + frames[i].file.size() + 40;
  size_t start = out.size();
  out.resize(start + room);
  char* w = out.data() + start;
  auto put = [&w](std::string_view text) {
    std::memcpy(w, text.data(), text.size());
    w += text.size();
  };
  if (config_.addresses) {
    // "0x%016" PRIx64 without printf, which costs more than the lookup on a warm cache.
    *w++ = '0';
    *w++ = 'x';
    for (int i = 15; i >= 0; --i) *w++ = "0123456789abcdef"[(address >> (4 * i)) & 15];
    put(config_.pretty ? ": " : "\n");
  }
  if (count == 0) {
    if (config_.functions) put(config_.pretty ? "?? " : "??\n");
    put("??:0\n");
    out.resize(size_t(w - out.data()));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const symbolize::Frame& f = frames[i];
    if (i > 0 && config_.pretty) put(" (inlined by) ");
    if (config_.functions) {
      if (f.function.empty()) {
        put("??");
      } else if (config_.demangle && !f.is_go) {
        // Demangled names may be longer than the room made: append them the slow way.
        out.resize(size_t(w - out.data()));
        out += demangle_native(f.function);
        size_t at = out.size();
        out.resize(at + room);
        w = out.data() + at;
      } else {
        put(f.function);
      }
      put(config_.pretty ? " at " : "\n");
    }
    std::string_view file = f.file;
    if (file.empty()) {
      file = "??";
    } else if (config_.basenames) {
      file = base_name(file);
    }
    put(file);
    *w++ = ':';
    if (f.line > 0) {
      w = std::to_chars(w, w + 16, f.line).ptr;
    } else {
      *w++ = '?';
    }
    *w++ = '\n';
  }
  out.resize(size_t(w - out.data()));
}

void JsonAddr2linePrinter::print(uint64_t address, std::span<const symbolize::Frame> frames, std::string& out) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "{\"address\":\"0x%" PRIx64 "\",\"frames\":[", address);
  out += buf;
  bool first = true;
  for (const auto& f : frames) {
    if (!f.known()) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"function\":";
    append_json_string(out, demangle_ && !f.is_go ? demangle_native(f.function) : std::string(f.function));
    out += ",\"file\":";
    append_json_string(out, basenames_ ? base_name(f.file) : f.file);
    std::snprintf(buf, sizeof buf, ",\"line\":%d,\"start_line\":%d,\"entry\":\"0x%" PRIx64 "\"", f.line, f.start_line, f.entry);
    out += buf;
    out += f.inlined ? ",\"inlined\":true" : ",\"inlined\":false";
    out += f.is_go ? ",\"go\":true}" : ",\"go\":false}";
  }
  out += "]}\n";
}

}  // namespace goperf::profiler

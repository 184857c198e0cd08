// FrameKind: Go symbol names are "importpath.Name", where the import path may contain dots only before its
// first '/' (cmd/link's symbol naming; see the package path rules in cmd/go/internal/load/pkg.go).
#include "flamegraph/frame_kind.h"

namespace goperf::flamegraph {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool is_hex_address(std::string_view s) {
  if (!starts_with(s, "0x") || s.size() < 3) return false;
  for (char c : s.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

std::string_view go_package(std::string_view f) {
  // Strip the folded-stack annotations flamegraph.pl understands.
  if (ends_with(f, "_[i]") || ends_with(f, "_[k]") || ends_with(f, "_[j]")) f.remove_suffix(4);
  const size_t slash = f.rfind('/', f.find_first_of("[("));  // generic brackets may hold '/' too
  const size_t from = slash == std::string_view::npos ? 0 : slash + 1;
  const size_t dot = f.find('.', from);
  if (dot == std::string_view::npos || dot == 0 || dot == f.size() - 1) return {};
  std::string_view pkg = f.substr(0, dot);
  for (char c : pkg) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '.' || c == '_' || c == '-' || c == '~' || c == '%';
    if (!ok) return {};
  }
  return pkg;
}

FrameKind classify_frame(std::string_view function, std::string_view file, std::string_view mapping_file) {
  // "[kernel]" alone: a kernel frame recorded where kallsyms hides the kernel's addresses.
  if (starts_with(mapping_file, "[kernel") || ends_with(function, "_[k]") || function == "[kernel]") {
    return FrameKind::kKernel;
  }
  if (function.empty() || function == "[unknown]" || function == kTruncatedFrame || function == kGapFrame ||
      is_hex_address(function)) {
    return FrameKind::kUnknown;
  }
  // "[chan receive]", "[running]", ...: bracketed, no mapping, not the kernel's ("[kernel]").
  if (starts_with(function, "[") && ends_with(function, "]") && mapping_file.empty() && function != "[kernel]")
    return FrameKind::kState;
  // cgo's trampolines are C (runtime/cgo/gcc_*.c), although some carry Go-looking names.
  if (starts_with(function, "_cgo_") || starts_with(function, "x_cgo_") || starts_with(function, "crosscall")) {
    return FrameKind::kNative;
  }
  if (ends_with(file, ".c") || ends_with(file, ".h") || ends_with(file, ".cc") || ends_with(file, ".cpp") ||
      ends_with(file, ".S")) {
    return FrameKind::kNative;
  }
  std::string_view pkg = go_package(function);
  if (pkg.empty()) return FrameKind::kNative;
  // GCC's clone suffixes ("memcpy.part.0", "f.cold") look like a package-qualified name but are C.
  if (!ends_with(file, ".go") && pkg.find('/') == std::string_view::npos) {
    std::string_view rest = function.substr(pkg.size() + 1);
    for (std::string_view c : {"part", "constprop", "isra", "cold", "lto_priv", "localalias"}) {
      if (starts_with(rest, c)) return FrameKind::kNative;
    }
  }
  // runtime/pprof, runtime/trace and runtime/debug are ordinary standard library packages.
  if (pkg == "runtime" || starts_with(pkg, "runtime/internal/") || starts_with(pkg, "internal/runtime/") ||
      pkg == "runtime/cgo" || pkg == "internal/bytealg" || pkg == "internal/abi") {
    return FrameKind::kRuntime;
  }
  if (pkg == "main") return FrameKind::kProgram;
  const std::string_view first = pkg.substr(0, pkg.find('/'));
  if (first.find('.') == std::string_view::npos) return FrameKind::kStdlib;
  return FrameKind::kProgram;
}

const char* frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::kProgram: return "program";
    case FrameKind::kStdlib: return "stdlib";
    case FrameKind::kRuntime: return "runtime";
    case FrameKind::kNative: return "native";
    case FrameKind::kKernel: return "kernel";
    case FrameKind::kUnknown: return "unknown";
    case FrameKind::kState: return "goroutine state";
  }
  return "unknown";
}

}  // namespace goperf::flamegraph

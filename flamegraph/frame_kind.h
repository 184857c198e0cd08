// FrameKind: which part of a Go program a frame belongs to (runtime, standard library, the program's own
// packages, cgo/C, kernel), decided from the function name and its mapping; drives the SVG palette.
#pragma once

#include <cstdint>
#include <string_view>

namespace goperf::flamegraph {

enum class FrameKind : uint8_t {
  kProgram,  // main and every module path with a dot in its first element (github.com/..., example.com/...)
  kStdlib,   // import paths without a dot in the first element: fmt, net/http, encoding/json, ...
  kRuntime,  // runtime, runtime/internal/..., internal/runtime/..., runtime/cgo, internal/bytealg, internal/abi
  kNative,   // C code: cgo callees, libc, anything not named like a Go function
  kKernel,   // kernel frames ("[kernel.kallsyms]" mapping, "_[k]" annotation)
  kUnknown,  // unsymbolized addresses ("0x4a5b6c", "[unknown]"), kTruncatedFrame and kGapFrame
  kState,    // a goroutine state at the root of a goroutine-state profile ("[chan receive]"): flamegraph/state_roots.h
};

// The frame a recorded stack ends in when its walk could not reach the stack's root (goexit, mstart,
// ...): the frames above it are real, the ones beyond it unknown.
inline constexpr std::string_view kTruncatedFrame = "[truncated]";
// The frame between two frames of a recorded stack whose walk skipped what lies between them (a C function
// without a frame record, left for the goroutine's saved state): both sides are real, the middle unknown.
inline constexpr std::string_view kGapFrame = "[frames not unwound]";

// `file` is the function's source file and `mapping_file` its location's mapping's filename ("" when unknown).
FrameKind classify_frame(std::string_view function, std::string_view file = {}, std::string_view mapping_file = {});

// The Go import path part of a symbol name: "net/http.(*conn).serve" -> "net/http"; "" when the
// name is not a Go symbol.
std::string_view go_package(std::string_view function);

const char* frame_kind_name(FrameKind kind);

}  // namespace goperf::flamegraph

// InfoReport: the facts `goperf info` shows about one Go binary, gathered from a Module into a plain
// struct so the text and JSON printers never touch the symbolizer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "symbolize/build_info.h"
#include "symbolize/result.h"

namespace goperf::symbolize {
class Module;
}

namespace goperf::profiler {

struct InfoReport {
  std::string path;                        // as the user named it (the header line of `go version -m`)
  std::optional<symbolize::BuildInfo> build;  // nullopt when .go.buildinfo is missing
  std::string build_error;                 // why it is missing
  std::string goos, goarch;                // from the build settings, else from the ELF header
  uint32_t pclntab_magic = 0;
  std::string pclntab_version;             // "go1.18-go1.19" or "go1.20+"
  bool pclntab_scanned = false;            // found by scanning segments (no section)
  std::string pclntab_section;             // ".gopclntab", ".data.rel.ro.gopclntab", "" when scanned
  uint64_t pclntab_vaddr = 0;
  uint64_t text_start = 0;
  std::optional<uint64_t> moduledata_vaddr;
  uint64_t func_count = 0;
  std::string elf_type;                    // "EXEC", "DYN"
  bool pie = false;
  bool has_symtab = false, has_dwarf = false;
  bool stripped() const { return !has_symtab; }
  bool external_linker = false;            // linked by the system linker (PT_GNU_EH_FRAME, .init, .comment)
  bool cgo_go_funcs = false;               // cgo-generated Go functions (_cgo_*, _cgoexp_*, *._Cfunc_*)
  uint64_t native_text_bytes = 0;          // bytes of .text outside the Go text range (C code, crt)
  std::string cgo_enabled;                 // the CGO_ENABLED build setting, "" when absent
  bool cgo() const { return external_linker || cgo_go_funcs || native_text_bytes > 64; }
  std::string gnu_build_id, go_build_id;
  // The runtime layout goperf reads this program's goroutines with, and where its table comes from
  // (measured from DWARF of real builds, or derived from the runtime's sources): describe_runtime_layout.
  std::string runtime_layout;
};

// "Go 1.26, measured", "Go 1.23, derived from the runtime's sources", or the stand-in for an unknown version.
std::string describe_runtime_layout(int go_minor);

// Gathers the report; fails only when the file is not a Go program (no pclntab).
Result<InfoReport> collect_info(const symbolize::Module& module, const std::string& path);

}  // namespace goperf::profiler

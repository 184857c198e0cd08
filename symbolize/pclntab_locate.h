// Locating a pclntab and its runtime.firstmoduledata in an ELF file (internal to symbolize/).
// Mirrors the checks of runtime.moduledataverify1 (src/runtime/symtab.go) for the header, and the
// GoReSym-style search for the moduledata word that points at the header.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "symbolize/elf_file.h"
#include "symbolize/result.h"

namespace goperf::symbolize::detail {

// The pcHeader (src/runtime/symtab.go, identical layout 1.18-1.27, 8-byte pointers).
struct PcHeader {
  uint32_t magic = 0;
  uint8_t min_lc = 1, ptr_size = 8;
  uint64_t nfunc = 0, nfiles = 0;
  uint64_t text_start = 0;  // 0 from Go 1.26 on (the field is no longer written)
  uint64_t funcname_off = 0, cu_off = 0, filetab_off = 0, pctab_off = 0, pcln_off = 0;
};

struct FoundPclntab {
  PcHeader header;
  uint64_t vaddr = 0;                  // link-time address of the header
  std::span<const uint8_t> bytes;      // from the header to the end of the section (or segment)
  std::string_view section;            // "" when found by scanning
};

struct FoundModuledata {
  uint64_t vaddr = 0;
  uint64_t text = 0;    // moduledata.text (link-time)
  uint64_t gofunc = 0;  // moduledata.gofunc (link-time), 0 when not determined
  uint64_t findfunctab = 0, minpc = 0, maxpc = 0;  // the runtime's pc -> function bucket index
};

// Validates a candidate header at the start of `bytes` (which runs to the end of its region).
std::optional<PcHeader> parse_pc_header(std::span<const uint8_t> bytes);

// By section name (.gopclntab, .data.rel.ro.gopclntab), else by scanning the PT_LOAD segments.
Result<FoundPclntab> find_pclntab(const ElfFile& elf);

// The moduledata whose pcHeader field holds `tab.vaddr`, in the file or in a RELATIVE relocation's addend.
std::optional<FoundModuledata> find_moduledata(const ElfFile& elf, const FoundPclntab& tab);

}  // namespace goperf::symbolize::detail

// Gathers `goperf info`'s facts from the ELF file, its pclntab and its .go.buildinfo.
#include "profiler/info/info_report.h"

#include <elf.h>

#include <algorithm>
#include <string_view>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/go_functions.h"
#include "unwind/go_runtime_layout.h"

namespace goperf::profiler {

std::string describe_runtime_layout(int minor) {
  auto choice = unwind::layout_for_go_minor(minor);
  std::string table = "Go 1." + std::to_string(choice.layout->go_minor) + ", " +
                      std::string(unwind::layout_provenance(*choice.layout));
  if (choice.exact_version) return table;
  return "none for this version: " + table + " stands in, checked against the goroutines before use";
}
namespace {

std::string machine_goarch(uint16_t machine) {
  switch (machine) {
    case EM_X86_64: return "amd64";
    case EM_AARCH64: return "arm64";
    case EM_386: return "386";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv64";
    case EM_PPC64: return "ppc64le";
    case EM_S390: return "s390x";
    default: return "unknown";
  }
}

// Functions the cgo tool generates in the Go code of a package that imports "C".
bool is_cgo_generated(std::string_view name) {
  return name.starts_with("_cgo_") || name.starts_with("_cgoexp_") || name.find("._Cfunc_") != std::string_view::npos;
}

// The system linker leaves traces the Go linker never writes: .eh_frame_hdr (PT_GNU_EH_FRAME), .init, and
// a .comment naming the C compiler.
bool linked_externally(const symbolize::ElfFile& elf) {
  for (const auto& s : elf.segments()) {
    if (s.type == PT_GNU_EH_FRAME) return true;
  }
  return elf.find_section(".init").has_value();
}

}  // namespace

Result<InfoReport> collect_info(const symbolize::Module& module, const std::string& path) {
  const symbolize::ElfFile& elf = module.elf();
  auto table = symbolize::go_function_table_facts(module, is_cgo_generated);
  if (!table) return symbolize::not_go_error(module, path);
  InfoReport r;
  r.path = path;
  if (const symbolize::BuildInfo* bi = module.build_info()) {
    r.build = *bi;
  } else {
    auto b = symbolize::BuildInfo::read(elf);
    if (b.ok()) {
      r.build = *b;
    } else {
      r.build_error = b.error().message();
    }
  }
  if (r.build) {
    r.goos = r.build->setting("GOOS");
    r.goarch = r.build->setting("GOARCH");
    r.cgo_enabled = r.build->setting("CGO_ENABLED");
  }
  r.runtime_layout = describe_runtime_layout(r.build ? r.build->minor_version() : 0);
  if (r.goos.empty()) r.goos = "linux";
  if (r.goarch.empty()) r.goarch = machine_goarch(elf.machine());

  r.pclntab_magic = table->magic;
  r.pclntab_version = r.pclntab_magic == 0xfffffff0u ? "go1.18-go1.19" : r.pclntab_magic == 0xfffffff1u ? "go1.20+" : "unknown";
  r.pclntab_scanned = table->scanned;
  r.pclntab_section = std::string(table->section);
  r.pclntab_vaddr = table->vaddr;
  r.text_start = table->text_start;
  r.moduledata_vaddr = table->moduledata_vaddr;
  r.func_count = table->func_count;

  r.elf_type = elf.type() == ET_EXEC ? "EXEC" : elf.type() == ET_DYN ? "DYN" : "other";
  r.pie = elf.is_pie();
  r.has_symtab = module.native_symbols().has_symtab();
  r.has_dwarf = elf.find_section(".debug_info").has_value() || elf.find_section(".zdebug_info").has_value();
  r.external_linker = linked_externally(elf);
  r.cgo_go_funcs = table->cgo_generated;
  if (auto text = elf.find_section(".text"); text && r.func_count > 0) {
    uint64_t go_start = table->go_start, go_end = table->go_end;
    uint64_t text_end = text->addr + text->size;
    if (go_start > text->addr) r.native_text_bytes += std::min(go_start, text_end) - text->addr;
    if (text_end > go_end) r.native_text_bytes += text_end - std::max(go_end, text->addr);
  }
  r.gnu_build_id = elf.gnu_build_id();
  r.go_build_id = elf.go_build_id();
  return r;
}

}  // namespace goperf::profiler

// Go version and TLS slot of a target executable, for the eBPF program's rodata.
#include "bpf/go_target.h"

#include <elf.h>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "unwind/go_runtime_layout.h"

namespace goperf::bpf {

int64_t tls_g_offset(uint64_t tls_memsz, uint64_t tls_align) {
  if (tls_memsz == 0) return -8;
  uint64_t align = tls_align ? tls_align : 1;
  uint64_t block = (tls_memsz + align - 1) / align * align;
  return -static_cast<int64_t>(block);
}

Result<std::string> configure_for_executable(BpfSamplerOptions& options, const std::string& exe_path) {
  auto elf = symbolize::ElfFile::open(exe_path);
  if (!elf) return std::move(elf).error();
  for (const auto& seg : (*elf)->segments()) {
    if (seg.type == PT_TLS) options.tls_g_offset = tls_g_offset(seg.memsz, seg.align);
  }
  auto info = symbolize::BuildInfo::read(**elf);
  if (!info) {
    return std::string("no Go build information in " + exe_path +
                       ": goroutine ids and labels are not recorded");
  }
  auto choice = unwind::layout_for_go_minor(info->minor_version());
  set_go_offsets(options, *choice.layout);
  if (!choice.exact_version) {
    return std::string("no runtime layout for " + info->go_version + ": using Go 1." +
                       std::to_string(choice.layout->go_minor) + "'s for goroutine ids and labels");
  }
  return std::string();
}

}  // namespace goperf::bpf

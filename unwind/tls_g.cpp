// The executable's PT_TLS segment, read once for the TLS g rules (tls_g_amd64.cpp).
#include "unwind/tls_g.h"

#include <elf.h>

#include "symbolize/elf_file.h"

namespace goperf::unwind {

TlsSegment tls_segment(const symbolize::ElfFile& exe) {
  TlsSegment tls;
  for (const auto& seg : exe.segments()) {
    if (seg.type == PT_TLS) tls = {seg.memsz, seg.align};
  }
  return tls;
}

std::vector<int64_t> tls_g_offsets(const symbolize::ElfFile& exe) { return tls_g_offsets(tls_segment(exe)); }

}  // namespace goperf::unwind

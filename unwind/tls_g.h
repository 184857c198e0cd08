// Where a Go thread keeps its g in thread-local storage, relative to the thread pointer (fs_base on
// amd64): the one rule used by unwind::current_g (snapshots, cores) and by the eBPF program's rodata
// (bpf/go_target.cpp). The runtime's g is the TLS variable runtime.tlsg (src/runtime/go_tls.h,
// cmd/link/internal/ld/sym.go); where it sits follows the architecture's TLS variant: tls_g_amd64.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace goperf::symbolize {
class ElfFile;
}

namespace goperf::unwind {

// The executable's PT_TLS segment: its size and alignment (memsz 0: none).
struct TlsSegment {
  uint64_t memsz = 0;
  uint64_t align = 0;
};
TlsSegment tls_segment(const symbolize::ElfFile& exe);

// Where runtime.tlsg is when it is the first variable of the executable's TLS block (the Go linker
// puts it first; x86-64 variant II: the block ends at the thread pointer, so that is -block size).
// No PT_TLS: -8, the internal linker's Tlsoffset.
int64_t tls_g_offset(const TlsSegment& tls);
// Every offset g may have, the likeliest first: -8 (internal linking: runtime.tlsg is the only TLS
// word), then each 8-aligned slot of the PT_TLS block (C __thread variables share it under external
// linking), tls_g_offset's included. A reader checks each candidate (current_g).
std::vector<int64_t> tls_g_offsets(const TlsSegment& tls);
std::vector<int64_t> tls_g_offsets(const symbolize::ElfFile& exe);

}  // namespace goperf::unwind

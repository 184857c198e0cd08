// x86-64 TLS variant II (ELF Handling For Thread-Local Storage, 3.4.6): the executable's TLS block ends
// at the thread pointer (fs_base), its size rounded up to the segment's alignment.
#include "unwind/tls_g.h"

namespace goperf::unwind {
namespace {

constexpr int64_t kInternalLinkerTlsoffset = -8;  // cmd/link/internal/ld/sym.go: Tlsoffset = -PtrSize

int64_t block_size(const TlsSegment& tls) {
  uint64_t align = tls.align ? tls.align : 1;
  return static_cast<int64_t>((tls.memsz + align - 1) / align * align);
}

}  // namespace

int64_t tls_g_offset(const TlsSegment& tls) {
  if (tls.memsz == 0) return kInternalLinkerTlsoffset;
  return -block_size(tls);  // runtime.tlsg is the block's first variable
}

std::vector<int64_t> tls_g_offsets(const TlsSegment& tls) {
  std::vector<int64_t> out{kInternalLinkerTlsoffset};
  // Every word of the block, the first (tls_g_offset's) included: a block of one word aligned to more
  // than 8 puts g below -8.
  int64_t block = block_size(tls);
  for (int64_t off = 0; off + 8 <= static_cast<int64_t>(tls.memsz); off += 8)
    if (off - block != kInternalLinkerTlsoffset) out.push_back(off - block);
  return out;
}

}  // namespace goperf::unwind

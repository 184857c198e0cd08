// The TLS g rule (unwind/tls_g.h) that both current_g and the eBPF program's rodata use.
#include "unwind/tls_g.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace goperf::unwind {
namespace {

TEST(TlsGOffset, ExecutableTlsBlockEndsAtTheThreadPointer) {
  EXPECT_EQ(tls_g_offset(TlsSegment{0, 0}), -8);    // no PT_TLS: the internal linker's Tlsoffset
  EXPECT_EQ(tls_g_offset(TlsSegment{8, 8}), -8);    // Go alone: runtime.tlsg only
  EXPECT_EQ(tls_g_offset(TlsSegment{12, 8}), -16);  // with C __thread variables (external linking)
  EXPECT_EQ(tls_g_offset(TlsSegment{8, 64}), -64);
}

TEST(TlsGOffsets, CandidatesStartWithTheInternalLinkersSlotThenEveryWordOfTheBlock) {
  EXPECT_EQ(tls_g_offsets(TlsSegment{0, 0}), std::vector<int64_t>{-8});
  EXPECT_EQ(tls_g_offsets(TlsSegment{8, 8}), std::vector<int64_t>{-8});
  EXPECT_EQ(tls_g_offsets(TlsSegment{24, 16}), (std::vector<int64_t>{-8, -32, -24, -16}));
}

TEST(TlsGOffsets, TheSingleOffsetIsOneOfTheCandidates) {
  for (TlsSegment t : {TlsSegment{12, 8}, TlsSegment{40, 32}, TlsSegment{8, 64}}) {
    auto all = tls_g_offsets(t);
    EXPECT_NE(std::find(all.begin(), all.end(), tls_g_offset(t)), all.end()) << t.memsz << "/" << t.align;
  }
}

}  // namespace
}  // namespace goperf::unwind

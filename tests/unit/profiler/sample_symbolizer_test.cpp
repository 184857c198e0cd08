// SampleSymbolizer on samples of this test process itself: a stack whose walk cannot reach its root
// ends in exactly one [truncated] frame and is counted; a whole one has none.
#include "profiler/record/sample_symbolizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

#include "flamegraph/frame_kind.h"

namespace goperf::profiler {
namespace {

[[gnu::noinline]] int sampled_function(int x) { return x * 3 + 1; }

// A sample in sampled_function (C code here: frame pointers) whose frame record holds `return_word`.
// The stack copy is a buffer of ours, at a made-up address the walk reads only through the copy.
struct FakeStack {
  static constexpr uint64_t kBase = 0x7ffe00000000;
  std::array<uint64_t, 8> words{};
  unwind::RawSample sample(uint64_t return_word, uint64_t count) {
    words.fill(0);
    words[2] = 0;            // the frame record at kBase + 16: saved frame pointer (end of the chain)
    words[3] = return_word;  // and the return address
    unwind::RawSample s;
    s.pid = static_cast<uint32_t>(getpid());
    s.tid = s.pid;
    s.count = count;
    s.user_regs.pc = reinterpret_cast<uint64_t>(&sampled_function) + 1;
    s.user_regs.sp = kBase;
    s.user_regs.fp = kBase + 16;
    s.stack_base = kBase;
    s.stack = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(words.data()), sizeof(words));
    return s;
  }
};

std::string outermost(const flamegraph::Profile& p, const flamegraph::Sample& s) {
  const auto& lines = p.locations[s.locations.back()].lines;
  return lines.empty() ? "" : p.functions[lines.back().function].name;
}

size_t markers(const flamegraph::Profile& p, const flamegraph::Sample& s) {
  size_t n = 0;
  for (uint32_t loc : s.locations) {
    for (const auto& l : p.locations[loc].lines) n += p.functions[l.function].name == flamegraph::kTruncatedFrame;
  }
  return n;
}

TEST(SampleSymbolizer, StackThatStopsShortEndsInOneTruncatedFrame) {
  SampleSymbolizerOptions o;
  o.pids = {static_cast<uint32_t>(getpid())};
  o.kernel_symbols = false;
  SampleSymbolizer sym(o);
  FakeStack stack;
  sym.add(stack.sample(0x1, 3));           // not a return address: the walk stops short
  sym.add(stack.sample(0xc00082fb10, 1));  // a heap-like word: the same
  sym.add(stack.sample(0, 2));             // the end of a thread's frame chain: complete
  EXPECT_EQ(sym.stats().taken, 6u);
  EXPECT_EQ(sym.stats().truncated, 4u);
  auto profile = sym.finish(0, 1);
  // The two stopped stacks are one stack (the frame, then the marker): the builder adds them up.
  ASSERT_EQ(profile.samples.size(), 2u);
  const auto& cut = profile.samples[0];
  EXPECT_EQ(cut.values[0], 4);
  EXPECT_EQ(outermost(profile, cut), flamegraph::kTruncatedFrame);
  EXPECT_EQ(markers(profile, cut), 1u);
  EXPECT_EQ(cut.locations.size(), 2u);
  for (const auto& s : profile.samples) {
    for (uint32_t loc : s.locations) {
      uint64_t a = profile.locations[loc].address;
      EXPECT_TRUE(a != 0x1 && a != 0xc00082fb10) << std::hex << a;
    }
  }
  const auto& whole = profile.samples[1];
  EXPECT_EQ(whole.values[0], 2);
  EXPECT_EQ(markers(profile, whole), 0u);
  EXPECT_NE(outermost(profile, whole), flamegraph::kTruncatedFrame);
  // The marker is drawn in the colour of frames goperf cannot name.
  EXPECT_EQ(flamegraph::classify_frame(flamegraph::kTruncatedFrame), flamegraph::FrameKind::kUnknown);
}

}  // namespace
}  // namespace goperf::profiler

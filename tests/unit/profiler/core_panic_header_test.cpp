// format_panic_chain against printpanics' rules (src/runtime/panic.go of 1.19 and 1.26) over a synthetic
// memory holding type descriptors and values, and si_code names against include/uapi/asm-generic/siginfo.h.
#include "profiler/core/core_panic_header.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

#include "unwind/memory.h"
#include "unwind/panic_chain.h"

namespace goperf::profiler {
namespace {

using unwind::PanicRecord;

// Bytes at [kBase, kBase + size): a type area, names and values.
class ByteMemory : public unwind::Memory {
 public:
  static constexpr uint64_t kBase = 0x10000;
  std::vector<uint8_t> bytes = std::vector<uint8_t>(0x4000);
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    if (addr < kBase || addr + out.size() > kBase + bytes.size()) return Error(ErrorCode::kUnavailable, "unmapped");
    std::memcpy(out.data(), bytes.data() + (addr - kBase), out.size());
    return {};
  }
  void put(uint64_t addr, const void* v, size_t n) { std::memcpy(bytes.data() + (addr - kBase), v, n); }
  void put64(uint64_t addr, uint64_t v) { put(addr, &v, 8); }
};

constexpr uint64_t kTypes = ByteMemory::kBase;  // moduledata.types

// A type descriptor at `t` of kind `kind` named `name` (name stored at kTypes + name_off).
void add_type(ByteMemory& m, uint64_t t, uint8_t kind, const std::string& name, int32_t name_off) {
  m.bytes[t + 23 - ByteMemory::kBase] = kind;
  m.put(t + 40, &name_off, 4);
  uint64_t n = kTypes + static_cast<uint64_t>(name_off);
  m.bytes[n + 1 - ByteMemory::kBase] = static_cast<uint8_t>(name.size());
  m.put(n + 2, name.data(), name.size());
}

// A Go string header at `h` pointing to text at `at`.
void add_string(ByteMemory& m, uint64_t h, uint64_t at, const std::string& text) {
  m.put(at, text.data(), text.size());
  m.put64(h, at);
  m.put64(h + 8, text.size());
}

struct Fixture {
  ByteMemory m;
  uint64_t string_type = kTypes + 0x100, named_int = kTypes + 0x200, named_string = kTypes + 0x300;
  Fixture() {
    add_type(m, string_type, 24, "string", 0x800);
    add_type(m, named_int, 2, "main.exitCode", 0x840);
    add_type(m, named_string, 24, "main.reason", 0x880);
  }
  PanicRecord str(uint64_t header, const std::string& text) {
    add_string(m, header, header + 0x20, text);
    return {0, string_type, header, false, false, false};
  }
};

TEST(CorePanicHeaderTest, NestedPanicsPrintOldestFirstWithATab) {
  Fixture f;
  PanicRecord first = f.str(kTypes + 0x1000, "first"), second = f.str(kTypes + 0x1100, "second");
  EXPECT_EQ(format_panic_chain(f.m, {second, first}, kTypes, 26), "panic: first\n\tpanic: second\n");
}

TEST(CorePanicHeaderTest, RepanickedValueIsPrintedOnce) {
  Fixture f;
  PanicRecord old = f.str(kTypes + 0x1000, "again"), now = old;
  old.recovered = old.repanicked = true;  // preprintpanics marks the link of a panic with the same value
  EXPECT_EQ(format_panic_chain(f.m, {now, old}, kTypes, 26), "panic: again [recovered, repanicked]\n");
  old.repanicked = false;  // 1.19: no such flag, both printed
  EXPECT_EQ(format_panic_chain(f.m, {now, old}, kTypes, 19), "panic: again [recovered]\n\tpanic: again\n");
}

TEST(CorePanicHeaderTest, GoexitRecordsAreNotPrinted) {
  Fixture f;
  PanicRecord exit = f.str(kTypes + 0x1000, "unused"), p = f.str(kTypes + 0x1100, "boom");
  exit.goexit = true;
  EXPECT_EQ(format_panic_chain(f.m, {p, exit}, kTypes, 26), "panic: boom\n");
}

TEST(CorePanicHeaderTest, ValuesAsPrintpanicvalPrintsThem) {
  Fixture f;
  const uint64_t v = kTypes + 0x1200;
  f.m.put64(v, static_cast<uint64_t>(-7));
  EXPECT_EQ(format_panic_chain(f.m, {{0, f.named_int, v, false, false, false}}, kTypes, 26),
            "panic: main.exitCode(-7)\n");
  add_string(f.m, v, v + 0x20, "two\nlines");
  EXPECT_EQ(format_panic_chain(f.m, {{0, f.named_string, v, false, false, false}}, kTypes, 26),
            "panic: main.reason(\"two\n\tlines\")\n");
  EXPECT_EQ(format_panic_chain(f.m, {{0, f.string_type, v, false, false, false}}, kTypes, 19),
            "panic: two\nlines\n");  // 1.19 prints strings as they are
  EXPECT_EQ(format_panic_chain(f.m, {{0, 0, 0, false, false, false}}, kTypes, 19), "panic: nil\n");
}

TEST(CorePanicHeaderTest, SignalCodesByName) {
  EXPECT_EQ(signal_code_name(SIGABRT, SI_TKILL), "SI_TKILL");
  EXPECT_EQ(signal_code_name(SIGTERM, SI_USER), "SI_USER");
  EXPECT_EQ(signal_code_name(SIGSEGV, SEGV_MAPERR), "SEGV_MAPERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, SEGV_ACCERR), "SEGV_ACCERR");
  EXPECT_EQ(signal_code_name(SIGBUS, BUS_ADRALN), "BUS_ADRALN");
  EXPECT_EQ(signal_code_name(SIGFPE, FPE_INTDIV), "FPE_INTDIV");
  EXPECT_EQ(signal_code_name(SIGSEGV, SI_KERNEL), "SI_KERNEL");
  EXPECT_EQ(signal_code_name(SIGUSR1, 5), "0x5");  // no name: the number
}

}  // namespace
}  // namespace goperf::profiler

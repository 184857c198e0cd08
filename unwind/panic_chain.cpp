// Reading g._panic and its links (src/runtime/runtime2.go _panic; layouts in go_runtime_layout.cpp).
#include "unwind/panic_chain.h"

#include <cstdio>
#include <string>

#include "unwind/go_runtime_layout.h"
#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

// Deeper chains exist only in pathological programs; the runtime prints them all, goperf the newest 64.
constexpr int kMaxPanics = 64;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Result<bool> read_flag(const Memory& m, uint64_t addr) {
  auto b = m.read_value<uint8_t>(addr);
  if (!b) return std::move(b).error();
  if (*b > 1) return make_error(ErrorCode::kInvalidArgument, "not a bool");
  return *b == 1;
}

}  // namespace

Result<std::vector<PanicRecord>> read_panic_chain(const Memory& memory, const GoRuntimeLayout& layout, uint64_t g_addr,
                                                  uint64_t stack_lo, uint64_t stack_hi) {
  const PanicLayout& pl = layout.panic_;
  std::vector<PanicRecord> out;
  auto head = memory.read_u64(g_addr + layout.g.panic_);
  if (!head) return std::move(head).error();
  for (uint64_t p = *head; p != 0; ) {
    auto bad = [&](const std::string& why) {
      return make_error(ErrorCode::kInvalidArgument, "the _panic at " + hex(p) + " " + why +
                                                        " (the Go 1." + std::to_string(layout.go_minor) +
                                                        " layout does not fit this build)");
    };
    // A _panic only ever lives on its goroutine's stack, and each link is an older (outer) frame's.
    if (p < stack_lo || p >= stack_hi || (!out.empty() && p <= out.back().addr)) return bad("is not on the stack");
    if (static_cast<int>(out.size()) == kMaxPanics) break;
    PanicRecord r;
    r.addr = p;
    auto type = memory.read_u64(p + pl.arg), data = memory.read_u64(p + pl.arg + 8), link = memory.read_u64(p + pl.link);
    if (!type || !data || !link) return bad("cannot be read");
    r.type = *type;
    r.data = *data;
    auto recovered = read_flag(memory, p + pl.recovered), goexit = read_flag(memory, p + pl.goexit);
    if (!recovered || !goexit) return bad("has a flag that is neither true nor false");
    r.recovered = *recovered;
    r.goexit = *goexit;
    if (pl.repanicked != 0) {
      auto rep = read_flag(memory, p + pl.repanicked);
      if (!rep) return bad("has a flag that is neither true nor false");
      r.repanicked = *rep;
    }
    out.push_back(r);
    p = *link;
  }
  return out;
}

}  // namespace goperf::unwind

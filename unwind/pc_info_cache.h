// PcInfoCache: what StackWalker learns about one runtime pc (its module, Go function kind and flags,
// pcsp frame size), kept so that the next walk through the same return address skips the pclntab
// lookups. A profile's samples pass the same few thousand return addresses over and over, so a small
// direct-mapped table answers nearly every frame (the runtime's own traceback has the same shape of
// cache for findfunc: pcvalueCache in src/runtime/symtab.go).
//
// An entry is a pure function of (address space, pc): the owner clears the cache whenever the address
// space it walks is replaced (maps re-read). Not thread-safe: one cache per walking thread.
#pragma once

#include <array>
#include <cstdint>

#include "symbolize/pclntab.h"

namespace goperf::unwind {

struct PcInfo {
  enum class Where : uint8_t {
    kGo,          // a Go function of a module's pclntab
    kModule,      // a mapped ELF file, not Go code (C, assembly with ELF symbols)
    kCode,        // in no module, but in executable memory (JIT, vdso, an unreadable file)
    kUnknown,     // in no executable mapping
  };
  uint64_t pc = 0;  // the key; 0: empty slot (pc 0 stops a walk before any lookup)
  int32_t sp_delta = 0;
  bool has_sp_delta : 1 = false;
  bool call_checked : 1 = false;  // kGo: after_call was computed (only pcs read from stacks need it)
  bool after_call : 1 = false;    // kGo: the instruction before pc is a call (unwind/return_address.h)
  Where where = Where::kUnknown;
  symbolize::FuncKind kind = symbolize::FuncKind::kNormal;
  uint8_t flag = 0;  // symbolize::Pclntab::kFlag*
};

class PcInfoCache {
 public:
  static constexpr size_t kSlots = 4096;  // 64 KiB: fits L2 next to the sampled stack

  const PcInfo* find(uint64_t pc) const {
    const PcInfo& e = slots_[slot(pc)];
    if (e.pc == pc && pc != 0) {
      ++hits_;
      return &e;
    }
    ++misses_;
    return nullptr;
  }
  void insert(const PcInfo& info) { slots_[slot(info.pc)] = info; }
  void clear() { slots_.fill(PcInfo{}); }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  // Return addresses are byte-granular and cluster within functions: mix the high bits in.
  static size_t slot(uint64_t pc) { return static_cast<size_t>((pc * 0x9E3779B97F4A7C15ULL) >> 52); }

  std::array<PcInfo, kSlots> slots_{};
  mutable uint64_t hits_ = 0, misses_ = 0;
};

static_assert(sizeof(PcInfo) == 16, "two slots per cache line");
static_assert(PcInfoCache::kSlots == (1u << 12), "slot() takes the top 12 bits of the hash");

}  // namespace goperf::unwind

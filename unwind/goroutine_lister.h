// GoroutineLister: every goroutine (runtime.allgs) and every M (runtime.allm -> m.alllink) of a Go
// program, read through a Memory (live process or core) with the layout of its Go version.
// Mirrors what src/runtime/traceback.go tracebackothers and src/runtime/proc.go forEachG read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "symbolize/result.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/register_set.h"
#include "unwind/runtime_globals.h"
#include "unwind/tls_g.h"  // tls_g_offsets, the candidates current_g tries

namespace goperf::symbolize {
class ElfFile;
}

namespace goperf::unwind {

class Memory;

struct GoroutineInfo {
  uint64_t g_addr = 0;        // runtime address of the g
  uint64_t goid = 0;
  uint32_t status = 0;        // raw g.atomicstatus (may carry kGscan)
  uint8_t wait_reason_index = 0;
  std::string wait_reason;    // waitReasonStrings[wait_reason_index], "" when 0 or unknown
  int64_t waitsince = 0;      // nanotime() when it blocked, 0 when unknown
  uint64_t sched_sp = 0, sched_pc = 0, sched_lr = 0, sched_bp = 0, sched_ctxt = 0;
  uint64_t syscallsp = 0, syscallpc = 0;
  uint64_t m = 0;             // *m while running or in a syscall, else usually 0
  uint64_t lockedm = 0;       // non-zero: "locked to thread"
  uint64_t gopc = 0;          // pc of the go statement (runtime address)
  uint64_t startpc = 0;       // entry of the goroutine function (runtime address)
  uint64_t parent_goid = 0;   // 0 before Go 1.21
  uint64_t labels = 0;        // pprof label map pointer, 0 when none
  uint64_t ancestors = 0;
  uint64_t stack_lo = 0, stack_hi = 0;

  uint32_t base_status() const { return status & ~uint32_t{kGscan}; }
  // _Gdead, or _Gdeadextra (1.26+: the dead g parked on a cgo extra M), both skipped by the runtime's dumps.
  bool is_dead() const { return base_status() == kGdead || base_status() == kGdeadextra; }
  // The bracketed status text of the runtime's goroutine header ("chan receive", "running", ...).
  std::string_view status_text() const { return g_status_text(status, wait_reason_index, wait_reason); }
};

struct MInfo {
  uint64_t addr = 0;
  int64_t id = 0;
  uint64_t procid = 0;        // Linux TID of the thread (0 for an M not started yet)
  uint64_t curg = 0, g0 = 0, gsignal = 0;
  uint64_t vdso_sp = 0, vdso_pc = 0;
};

// A g's stack bounds (g.stack.lo, g.stack.hi).
struct GStack {
  uint64_t lo = 0, hi = 0;
};
// Reads g.stack with `layout`, or, when the layout is not known (nullptr), at offsets 0 and 8: runtime.g
// starts with stack{lo, hi} in every Go version (src/runtime/runtime2.go).
Result<GStack> read_g_stack(const Memory& memory, const GLayout* layout, uint64_t g_addr);

struct GoroutineList {
  std::vector<GoroutineInfo> goroutines;  // allgs order (the runtime's dump order), dead g's excluded
  std::vector<MInfo> ms;                  // allm order
  size_t dead = 0;                        // g's skipped because _Gdead
};

class GoroutineLister {
 public:
  // globals: link-time addresses (load_bias is added). wait_reasons: from find_wait_reasons(), or empty
  // to use the layout's per-version table.
  GoroutineLister(const GoRuntimeLayout& layout, const RuntimeGlobals& globals, uint64_t load_bias,
                  std::vector<std::string> wait_reasons = {});

  // Goroutines and Ms. Fails (kUnavailable/kFormat) when allgs cannot be read or looks corrupt.
  Result<GoroutineList> list(const Memory& memory, bool include_dead = false) const;
  // The same into `out`, reusing its vectors' memory (a snapshot reserves and faults it in before
  // stopping the target).
  Status list_into(const Memory& memory, GoroutineList& out, bool include_dead = false) const;
  Result<std::vector<GoroutineInfo>> goroutines(const Memory& memory, bool include_dead = false) const;
  Result<std::vector<MInfo>> ms(const Memory& memory) const;
  // One g at a runtime address.
  Result<GoroutineInfo> read_g(const Memory& memory, uint64_t g_addr) const;
  Result<MInfo> read_m(const Memory& memory, uint64_t m_addr) const;

  const GoRuntimeLayout& layout() const { return layout_; }
  std::string_view wait_reason(uint8_t index) const;

 private:
  GoroutineInfo parse_g(std::span<const uint8_t> bytes, uint64_t g_addr) const;
  Result<std::pair<uint64_t, uint64_t>> read_allgs_header(const Memory& memory) const;  // (array, length)

  const GoRuntimeLayout& layout_;
  RuntimeGlobals globals_;
  uint64_t bias_;
  std::vector<std::string> reasons_;
};

// The layout to use for a process or core of Go 1.<minor>, checked against its memory: the g's of
// allgs read with it must look sane (allgs[0] is goid 1, statuses known, stacks with lo < hi and a
// power-of-two size, distinct goids). When they do not (a derived table that is wrong, or a version
// newer than goperf), the other known layouts are tried, nearest version first, and the first that
// passes is returned with exact_version = false. kFormat when none passes.
Result<LayoutChoice> verify_layout(const Memory& memory, const RuntimeGlobals& globals, uint64_t load_bias, int minor);

// The g a thread is running, and what kind it is. `pc_in_go_code`: the thread's pc is in a Go
// function compiled with ABIInternal (then R14 holds g). Otherwise the TLS slot is read at
// fs_base + offset, trying -8 (internal linking) then the offsets PT_TLS allows (external/cgo
// linking: tls_g_offsets). A candidate is accepted only if g.m != 0 and g is that m's curg, g0 or
// gsignal. kNotFound when the thread runs no Go code (e.g. a pure C thread of a cgo program).
struct ThreadG {
  enum class Kind : uint8_t { kUser, kG0, kGsignal };
  uint64_t g = 0;       // the g in R14/TLS
  uint64_t m = 0;       // g.m
  uint64_t curg = 0;    // m.curg (the user goroutine, 0 when idle)
  Kind kind = Kind::kUser;
};
Result<ThreadG> current_g(const Memory& memory, const RegisterSet& regs, bool pc_in_go_code,
                          const GoRuntimeLayout& layout, const std::vector<int64_t>& tls_offsets);

}  // namespace goperf::unwind

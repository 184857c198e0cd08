// GoRuntimeLayout: offsets of the Go runtime structures goperf reads (g, m, gobuf, moduledata), the
// goroutine status values and wait-reason strings, per Go minor version 1.19 - 1.27 (amd64 and arm64
// share these layouts). Mirrors src/runtime/runtime2.go and src/runtime/symtab.go of each release.
// Measured tables (DWARF of real builds) are in tests/fixtures/layouts/; see go_runtime_layout.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace goperf::unwind {

// Offsets in bytes. A field absent in a version has offset 0 unless said otherwise
// (only g.stack.lo and m.g0 really sit at offset 0, and they are present in every version).
struct GLayout {
  uint32_t size = 0;
  uint32_t stack_lo = 0, stack_hi = 8;
  uint32_t m = 0;
  uint32_t sched = 0;  // the gobuf; the sched_* fields below are absolute offsets in g
  uint32_t sched_sp = 0, sched_pc = 0, sched_g = 0, sched_ctxt = 0, sched_lr = 0, sched_bp = 0;
  uint32_t syscallsp = 0, syscallpc = 0, syscallbp = 0;  // syscallbp: 1.23+
  uint32_t stktopsp = 0;
  uint32_t atomicstatus = 0;  // uint32
  uint32_t goid = 0;          // int64 / uint64
  uint32_t waitsince = 0;     // int64, nanotime()
  uint32_t waitreason = 0;    // uint8
  uint32_t lockedm = 0;       // muintptr
  uint32_t parent_goid = 0;   // uint64, 1.21+; 0 when absent
  uint32_t gopc = 0, ancestors = 0, startpc = 0;
  uint32_t labels = 0;        // unsafe.Pointer (pprof label map)
  uint32_t panic_ = 32;       // *_panic, the newest panic of this goroutine (32 in every version 1.19 - 1.27)
  // The signal sigpanic turned into a panic (uint32 sig; uintptr sigcode0, sigcode1, sigpc); 0: not known
  // for this version (only the measured tables have them).
  uint32_t sig = 0, sigcode0 = 0, sigcode1 = 0, sigpc = 0;
};

// runtime._panic (src/runtime/runtime2.go): the fields printpanics reads. Always on its goroutine's stack.
struct PanicLayout {
  uint32_t arg = 0;         // any: {*_type, data}
  uint32_t link = 0;        // *_panic, the earlier panic
  uint32_t recovered = 0, goexit = 0;  // bool
  uint32_t repanicked = 0;  // bool, 1.25+; 0 when absent
};

struct MLayout {
  uint32_t size = 0;
  uint32_t g0 = 0;
  uint32_t procid = 0;  // uint64: the Linux thread id
  uint32_t gsignal = 0, curg = 0, caughtsig = 0, p = 0;
  uint32_t id = 0;      // int64, printed as m= in dumps
  uint32_t throwing = 0;  // int32 (throwType since 1.20)
  uint32_t alllink = 0;
  uint32_t libcallpc = 0, libcallsp = 0, libcallg = 0;
  uint32_t vdso_sp = 0, vdso_pc = 0;
};

struct ModuledataLayout {
  uint32_t size = 0;
  uint32_t pc_header = 0, funcnametab = 0, ftab = 0, findfunctab = 0;
  uint32_t minpc = 0, maxpc = 0, text = 0, etext = 0;
  uint32_t noptrdata = 0, enoptrdata = 0, data = 0, edata = 0, bss = 0, ebss = 0, noptrbss = 0, enoptrbss = 0;
  uint32_t end = 0, gofunc = 0, textsectmap = 0, modulename = 0, next = 0;
  uint32_t types = 0;  // base of the type descriptors: a _type's str (nameOff) is relative to it
};

// g.atomicstatus values (src/runtime/runtime2.go). The scan bit may be or-ed in.
enum GStatus : uint32_t {
  kGidle = 0, kGrunnable = 1, kGrunning = 2, kGsyscall = 3, kGwaiting = 4, kGmoribundUnused = 5,
  kGdead = 6, kGenqueueUnused = 7, kGcopystack = 8, kGpreempted = 9, kGleaked = 10, kGdeadextra = 11,
  kGscan = 0x1000,
};

struct GoRuntimeLayout {
  int go_minor = 0;        // the Go 1.x minor version these tables describe
  bool measured = false;   // true: from DWARF of a real toolchain build; false: derived from sources
  GLayout g;
  MLayout m;
  ModuledataLayout moduledata;
  PanicLayout panic_;
  uint32_t gobuf_size = 0;
  uint32_t func_size = 0;          // fixed part of runtime._func
  uint32_t inlined_call_size = 0;  // runtime.inlinedCall
  // waitReasonStrings of that release, indexed by g.waitreason. Prefer the table found in the
  // binary itself (find_wait_reasons in runtime_globals.h): it is exact for any release.
  std::span<const std::string_view> wait_reasons;
};

struct LayoutChoice {
  const GoRuntimeLayout* layout = nullptr;  // never null
  bool exact_version = true;  // false: minor unknown or out of range, nearest known layout used
};

// The layout for Go 1.<minor> (BuildInfo::minor_version()). Versions outside 19..27 (or 0 when the
// version did not parse) get the nearest known layout and exact_version = false: callers should warn
// and validate (goroutine_lister checks the g's it reads).
LayoutChoice layout_for_go_minor(int minor);
// How a layout came to be chosen, in one line for users ("" for a measured table of the program's own
// version): "derived from the runtime's sources" for 1.20 - 1.25, or which version's table stands in for
// an unknown one. `checked`: the table was verified against the goroutines of the process or core.
std::string layout_note(const LayoutChoice& choice, int wanted_minor, bool checked);
// "measured" or "derived from the runtime's sources", for `goperf info` and doctor.
std::string_view layout_provenance(const GoRuntimeLayout& layout);
// Every table goperf knows, in version order (tests, `goperf info`).
std::span<const GoRuntimeLayout> known_layouts();

// The word the runtime prints for a status (gStatusStrings), without the scan bit: "running", "syscall", ...
std::string_view g_status_string(uint32_t status);
// The bracketed status of a goroutine header, as goroutineheader prints it: `reason` (the wait-reason
// string of g.waitreason) for _Gwaiting with waitreason != 0 and a non-empty reason, else the status word.
std::string_view g_status_text(uint32_t status, uint8_t waitreason, std::string_view reason);

}  // namespace goperf::unwind

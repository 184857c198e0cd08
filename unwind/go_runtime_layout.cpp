// Per-version tables of the Go runtime layouts (amd64; arm64 shares them).
// Go 1.19, 1.26 and 1.27 are MEASURED: they equal tests/fixtures/layouts/go1.{19,26,27.3}.json, written
// by scripts/measure_layouts.sh from the DWARF of real builds (a unit test checks the equality).
// Go 1.20 - 1.25 are DERIVED from the field lists of src/runtime/runtime2.go and symtab.go of those
// releases (shared/go-internals.md 2.3, 4.1 - 4.3) and from the measured neighbours; m fields after
// m.id are the least certain, so goroutine_lister probes m.alllink around the table's value.
#include "unwind/go_runtime_layout.h"

#include <array>
#include <cstdlib>

namespace goperf::unwind {
namespace {

using std::string_view;

// g: stack lo/hi, m, sched, sched.{sp,pc,g,ctxt,lr,bp}, syscall{sp,pc,bp}, stktopsp, atomicstatus,
// goid, waitsince, waitreason, lockedm, parentGoid, gopc, ancestors, startpc, labels, size.
constexpr GLayout make_g(std::array<uint32_t, 25> v) {
  GLayout g;
  g.stack_lo = v[0]; g.stack_hi = v[1]; g.m = v[2]; g.sched = v[3]; g.sched_sp = v[4]; g.sched_pc = v[5];
  g.sched_g = v[6]; g.sched_ctxt = v[7]; g.sched_lr = v[8]; g.sched_bp = v[9]; g.syscallsp = v[10];
  g.syscallpc = v[11]; g.syscallbp = v[12]; g.stktopsp = v[13]; g.atomicstatus = v[14]; g.goid = v[15];
  g.waitsince = v[16]; g.waitreason = v[17]; g.lockedm = v[18]; g.parent_goid = v[19]; g.gopc = v[20];
  g.ancestors = v[21]; g.startpc = v[22]; g.labels = v[23]; g.size = v[24];
  return g;
}

// m: g0, procid, gsignal, curg, caughtsig, p, id, throwing, alllink, libcall{pc,sp,g}, vdso{SP,PC}, size.
constexpr MLayout make_m(std::array<uint32_t, 15> v) {
  MLayout m;
  m.g0 = v[0]; m.procid = v[1]; m.gsignal = v[2]; m.curg = v[3]; m.caughtsig = v[4]; m.p = v[5]; m.id = v[6];
  m.throwing = v[7]; m.alllink = v[8]; m.libcallpc = v[9]; m.libcallsp = v[10]; m.libcallg = v[11];
  m.vdso_sp = v[12]; m.vdso_pc = v[13]; m.size = v[14];
  return m;
}

// moduledata: pcHeader, funcnametab, ftab, findfunctab, minpc, maxpc, text, etext, noptrdata, enoptrdata,
// data, edata, bss, ebss, noptrbss, enoptrbss, end, gofunc, textsectmap, modulename, next, size.
constexpr ModuledataLayout make_md(std::array<uint32_t, 22> v) {
  ModuledataLayout d;
  d.pc_header = v[0]; d.funcnametab = v[1]; d.ftab = v[2]; d.findfunctab = v[3]; d.minpc = v[4]; d.maxpc = v[5];
  d.text = v[6]; d.etext = v[7]; d.noptrdata = v[8]; d.enoptrdata = v[9]; d.data = v[10]; d.edata = v[11];
  d.bss = v[12]; d.ebss = v[13]; d.noptrbss = v[14]; d.enoptrbss = v[15]; d.end = v[16]; d.gofunc = v[17];
  d.textsectmap = v[18]; d.modulename = v[19]; d.next = v[20]; d.size = v[21];
  return d;
}

// waitReasonStrings, measured (runtime.waitReasonStrings of real builds).
constexpr string_view kWait19[] = {
    "", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)", "dumping heap",
    "garbage collection", "garbage collection scan", "panicwait", "select", "select (no cases)",
    "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive", "chan send", "finalizer wait",
    "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "timer goroutine (idle)",
    "trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "preempted", "debug call"};
// Go 1.23.5 source (go-internals 4.6); used for 1.21 - 1.24 (derived: 1.21/1.22/1.24 not read).
constexpr string_view kWait23[] = {
    "", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)", "dumping heap",
    "garbage collection", "garbage collection scan", "panicwait", "select", "select (no cases)",
    "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive", "chan send", "finalizer wait",
    "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock",
    "sync.RWMutex.Lock", "trace reader (blocked)", "wait for GC cycle", "GC worker (idle)",
    "GC worker (active)", "preempted", "debug call", "GC mark termination", "stopping the world",
    "flushing proc caches", "trace goroutine status", "trace proc status", "page trace flush", "coroutine",
    "GC weak to strong wait"};
// Measured for 1.26.8 and 1.27.3 (identical); used for 1.25 too (derived).
constexpr string_view kWait26[] = {
    "", "GC assist marking", "IO wait", "dumping heap", "garbage collection", "garbage collection scan",
    "panicwait", "GC assist wait", "GC sweep wait", "GC scavenge wait", "finalizer wait", "force gc (idle)",
    "GOMAXPROCS updater (idle)", "semacquire", "sleep", "chan receive (nil chan)", "chan send (nil chan)",
    "select (no cases)", "select", "chan receive", "chan send", "sync.Cond.Wait", "sync.Mutex.Lock",
    "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait", "trace reader (blocked)",
    "wait for GC cycle", "GC worker (idle)", "GC worker (active)", "preempted", "debug call",
    "GC mark termination", "stopping the world", "flushing proc caches", "trace goroutine status",
    "trace proc status", "page trace flush", "coroutine", "GC weak to strong wait", "synctest.Run",
    "synctest.Wait", "chan receive (durable)", "chan send (durable)", "select (durable)",
    "sync.WaitGroup.Wait (durable)", "cleanup wait"};

GoRuntimeLayout make(int minor, bool measured, GLayout g, MLayout m, ModuledataLayout md, uint32_t gobuf,
                     uint32_t func, uint32_t inl, std::span<const string_view> wait) {
  GoRuntimeLayout l;
  l.go_minor = minor;
  l.measured = measured;
  l.g = g;
  l.m = m;
  l.moduledata = md;
  l.gobuf_size = gobuf;
  l.func_size = func;
  l.inlined_call_size = inl;
  l.wait_reasons = wait;
  return l;
}

void add_panic_layouts(std::array<GoRuntimeLayout, 9>& t);

const std::array<GoRuntimeLayout, 9>& tables() {
  // gobuf with ret (<= 1.24): sp 0, pc 8, g 16, ctxt 24, ret 32, lr 40, bp 48; 1.25+: no ret.
  static const std::array<GoRuntimeLayout, 9> kTables = [] {
    std::array<GoRuntimeLayout, 9> t = {
      // 1.19: measured (go1.19.8).
      make(19, true,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 0, 128, 144, 152, 168, 176, 232, 0, 296, 304,
                   312, 360, 392}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 336, 728, 736, 744, 800, 808, 1008}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 256, 304, 312, 448,
                    544, 552}),
           56, 40, 20, kWait19),
      // 1.20: derived = 1.19's g and m (same field offsets, go1.20.6 source); moduledata +covctrs (16).
      make(20, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 0, 128, 144, 152, 168, 176, 232, 0, 296, 304,
                   312, 360, 392}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 336, 728, 736, 744, 800, 808, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 464,
                    560, 568}),
           56, 44, 16, kWait19),
      // 1.21, 1.22: derived: g loses 24 bytes of trace fields and gains parentGoid (labels 344, as otel).
      make(21, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 0, 128, 144, 152, 168, 176, 208, 272, 280, 288,
                   296, 344, 0}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 336, 0, 0, 0, 800, 808, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 488,
                    576, 0}),
           56, 44, 16, kWait23),
      make(22, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 0, 128, 144, 152, 168, 176, 208, 272, 280, 288,
                   296, 344, 0}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 336, 0, 0, 0, 800, 808, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 488,
                    576, 0}),
           56, 44, 16, kWait23),
      // 1.23, 1.24: derived (go1.23.5 source): g.syscallbp at 128 shifts the rest by 8.
      make(23, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 128, 136, 152, 160, 176, 184, 216, 280, 288, 296,
                   304, 352, 0}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 344, 0, 0, 0, 800, 808, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 488,
                    576, 0}),
           56, 44, 16, kWait23),
      make(24, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 96, 104, 112, 120, 128, 136, 152, 160, 176, 184, 216, 280, 288, 296,
                   304, 352, 0}),
           make_m({0, 72, 80, 192, 200, 208, 232, 244, 344, 0, 0, 0, 800, 808, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 488,
                    576, 0}),
           56, 44, 16, kWait23),
      // 1.25: derived (go1.25.3 source): gobuf.ret removed (-8 after sched); m lacks 1.26's signalSecret.
      make(25, false,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 144, 152, 168, 176, 208, 272, 280, 288,
                   296, 344, 0}),
           make_m({0, 64, 72, 184, 192, 200, 224, 236, 344, 864, 872, 880, 888, 896, 0}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 328, 488,
                    576, 0}),
           48, 44, 16, kWait26),
      // 1.26: measured (go1.26.8).
      make(26, true,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 144, 152, 168, 176, 208, 280, 288, 296,
                   304, 352, 456}),
           make_m({0, 64, 72, 184, 192, 208, 232, 244, 352, 872, 880, 888, 896, 904, 1824}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 320, 336, 496,
                    584, 592}),
           48, 44, 16, kWait26),
      // 1.27: measured (go1.27.3): moduledata.gofunc moved to 344.
      make(27, true,
           make_g({0, 8, 48, 56, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 144, 152, 168, 176, 208, 280, 288, 296,
                   304, 352, 456}),
           make_m({0, 64, 72, 184, 192, 208, 232, 244, 352, 872, 880, 888, 896, 904, 1832}),
           make_md({0, 8, 128, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 272, 344, 360, 472,
                    560, 568}),
           48, 44, 16, kWait26),
    };
    add_panic_layouts(t);
    return t;
  }();
  return kTables;
}

// _panic and moduledata.types per version. Measured (DWARF, tests/fixtures/layouts): 1.19 (argp, arg, link, pc,
// sp, recovered, aborted, goexit), 1.26 and 1.27 (arg first: argp is gone; repanicked after recovered).
// Derived: 1.20 - 1.21 as 1.19 (go1.20.6 / go1.21 sources); 1.22 - 1.24 from the 1.22 rewrite (argp, arg,
// link, startPC, startSP, sp, lr, fp, retpc, deferBitsPtr, slotsPtr, recovered, goexit, deferreturn);
// 1.25 adds repanicked (go1.25 release notes: "[recovered, repanicked]"), argp assumed still present.
// A chain read with a derived table is checked (unwind/panic_chain.cpp) before it is printed.
void add_panic_layouts(std::array<GoRuntimeLayout, 9>& t) {
  for (auto& l : t) {
    PanicLayout& p = l.panic_;
    if (l.go_minor <= 21) p = {8, 24, 48, 50, 0};
    else if (l.go_minor <= 24) p = {8, 24, 96, 97, 0};
    else if (l.go_minor == 25) p = {8, 24, 96, 98, 97};
    else p = {0, 16, 88, 90, 89};
    l.moduledata.types = l.go_minor == 19 ? 280 : 296;
    // g.sig..sigpc, measured (tests/fixtures/layouts); left unknown for the derived versions.
    if (l.go_minor == 19) l.g.sig = 240, l.g.sigcode0 = 272, l.g.sigcode1 = 280, l.g.sigpc = 288;
    if (l.go_minor >= 26) l.g.sig = 224, l.g.sigcode0 = 256, l.g.sigcode1 = 264, l.g.sigpc = 272;
  }
}

constexpr string_view kStatus[] = {"idle",   "runnable", "running",   "syscall", "waiting", "moribund",
                                   "dead",   "enqueue",  "copystack", "preempted", "leaked", "dead"};

}  // namespace

LayoutChoice layout_for_go_minor(int minor) {
  const auto& t = tables();
  int first = t.front().go_minor, last = t.back().go_minor;
  if (minor < first) return {&t.front(), false};
  if (minor > last) return {&t.back(), false};
  return {&t[static_cast<size_t>(minor - first)], true};
}

std::span<const GoRuntimeLayout> known_layouts() { return tables(); }

std::string_view layout_provenance(const GoRuntimeLayout& layout) {
  return layout.measured ? "measured" : "derived from the runtime's sources";
}

std::string layout_note(const LayoutChoice& choice, int wanted_minor, bool checked) {
  const GoRuntimeLayout& l = *choice.layout;
  std::string table = "the Go 1." + std::to_string(l.go_minor) + " runtime layout";
  std::string how = checked ? ", checked against its goroutines" : ", not checked";
  if (!choice.exact_version) {
    std::string wanted = wanted_minor > 0 ? "Go 1." + std::to_string(wanted_minor) : "an unknown Go version";
    return "no runtime layout for " + wanted + ": using " + table + " (" + std::string(layout_provenance(l)) + ")" + how;
  }
  if (!l.measured) return "using " + table + ", " + std::string(layout_provenance(l)) + how;
  return "";
}

std::string_view g_status_string(uint32_t status) {
  uint32_t s = status & ~uint32_t{kGscan};
  // src/runtime/traceback.go gStatusStrings: values without a name print as "???".
  if (s >= std::size(kStatus) || s == kGmoribundUnused || s == kGenqueueUnused) return "???";
  return kStatus[s];
}

std::string_view g_status_text(uint32_t status, uint8_t waitreason, std::string_view reason) {
  if ((status & ~uint32_t{kGscan}) == kGwaiting && waitreason != 0 && !reason.empty()) return reason;
  return g_status_string(status);
}

}  // namespace goperf::unwind

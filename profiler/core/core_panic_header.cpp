// Printing a panic chain as the runtime does: printpanics and printpanicval/printanycustomtype
// (src/runtime/panic.go, src/runtime/error.go of 1.19 and 1.26), and si_code names from siginfo.h.
#include "profiler/core/core_panic_header.h"

#include <signal.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "profiler/json_string.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/fatal_message.h"
#include "unwind/go_type.h"
#include "unwind/memory.h"
#include "unwind/panic_chain.h"

namespace goperf::profiler {
namespace {

using unwind::GoKind;

// Since some release after 1.19 (present in 1.26) string values print with each newline followed by a tab
// (printindented); 1.19 prints them as they are. The first release with it is not verified here: 1.23 assumed.
std::string indented(std::string s, int go_minor) {
  if (go_minor < 23) return s;
  for (size_t i = 0; (i = s.find('\n', i)) != std::string::npos; i += 2) s.insert(i + 1, "\t");
  return s;
}

std::string read_string(const unwind::Memory& m, uint64_t header) {
  auto ptr = m.read_u64(header), len = m.read_u64(header + 8);
  if (!ptr || !len || *len > (1u << 20)) return "<string not readable>";
  std::string s(*len, '\0');
  if (*len != 0 && !m.read(*ptr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size())))
    return "<string not readable>";
  return s;
}

// The scalar at `data` as runtime.print prints it (printint/printuint/printbool); nullopt-like "" for other kinds.
std::string scalar(const unwind::Memory& m, GoKind k, uint64_t data) {
  auto signed_of = [&](int bytes) -> std::string {
    auto v = m.read_u64(data);
    if (!v) return "?";
    int64_t x = static_cast<int64_t>(*v << (64 - 8 * bytes)) >> (64 - 8 * bytes);
    return std::to_string(x);
  };
  auto unsigned_of = [&](int bytes) -> std::string {
    auto v = m.read_u64(data);
    if (!v) return "?";
    return std::to_string(bytes == 8 ? *v : *v & ((uint64_t{1} << (8 * bytes)) - 1));
  };
  switch (k) {
    case GoKind::kBool: {
      auto v = m.read_value<uint8_t>(data);
      return v ? (*v ? "true" : "false") : "?";
    }
    case GoKind::kInt: case GoKind::kInt64: return signed_of(8);
    case GoKind::kInt8: return signed_of(1);
    case GoKind::kInt16: return signed_of(2);
    case GoKind::kInt32: return signed_of(4);
    case GoKind::kUint: case GoKind::kUint64: case GoKind::kUintptr: return unsigned_of(8);
    case GoKind::kUint8: return unsigned_of(1);
    case GoKind::kUint16: return unsigned_of(2);
    case GoKind::kUint32: return unsigned_of(4);
    default: return "";
  }
}

bool predeclared(const std::string& name) {
  static constexpr std::array<std::string_view, 18> kNames = {
      "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
      "float32", "float64", "complex64", "complex128", "string", "error"};
  for (auto n : kNames)
    if (n == name) return true;
  return false;
}

// printpanicval / printany.
std::string panic_value(const unwind::Memory& m, const unwind::PanicRecord& p, uint64_t types_base, int go_minor) {
  if (p.type == 0) return "nil";
  auto t = unwind::read_go_type(m, p.type, types_base);
  if (!t) return "(a value goperf cannot print: " + t.error().message() + ")";
  const bool is_float = t->kind == GoKind::kFloat32 || t->kind == GoKind::kFloat64 || t->kind == GoKind::kComplex64 ||
                        t->kind == GoKind::kComplex128;
  if (is_float) return "(" + t->name + " value: goperf does not print floating-point panic values; see the program's stderr)";
  if (predeclared(t->name)) {
    if (t->kind == GoKind::kString) return indented(read_string(m, p.data), go_minor);
    std::string v = scalar(m, t->kind, p.data);
    if (!v.empty()) return v;
  }
  if (t->kind == GoKind::kString) return t->name + "(\"" + indented(read_string(m, p.data), go_minor) + "\")";
  if (std::string v = scalar(m, t->kind, p.data); !v.empty()) return t->name + "(" + v + ")";
  // Any other type: its name and the data word, as the runtime prints them ("(main.T) 0xc000012345").
  return "(" + t->name + ") " + hex_string(p.data);
}

}  // namespace

std::string format_panic_chain(const unwind::Memory& memory, const std::vector<unwind::PanicRecord>& chain,
                               uint64_t types_base, int go_minor) {
  // printpanics recurses to the oldest first; the chain is newest first, so walk it backwards.
  std::string out;
  for (size_t i = chain.size(); i-- > 0;) {
    const auto& p = chain[i];
    if (i + 1 < chain.size()) {
      const auto& link = chain[i + 1];
      if (link.repanicked) continue;  // the same value again: printed once, as "[recovered, repanicked]"
      if (!link.goexit) out += "\t";
    }
    if (p.goexit) continue;
    out += "panic: " + panic_value(memory, p, types_base, go_minor);
    if (p.recovered && p.repanicked) out += " [recovered, repanicked]";
    else if (p.recovered) out += " [recovered]";
    out += "\n";
  }
  return out;
}

namespace {

// The runtime's signal names (src/runtime/sigtab_linux_generic.go, the same in 1.19 and 1.26): signame().
constexpr const char* kRuntimeSignalNames[] = {
    "SIGNONE: no trap", "SIGHUP: terminal line hangup", "SIGINT: interrupt", "SIGQUIT: quit",
    "SIGILL: illegal instruction", "SIGTRAP: trace trap", "SIGABRT: abort", "SIGBUS: bus error",
    "SIGFPE: floating-point exception", "SIGKILL: kill", "SIGUSR1: user-defined signal 1",
    "SIGSEGV: segmentation violation", "SIGUSR2: user-defined signal 2", "SIGPIPE: write to broken pipe",
    "SIGALRM: alarm clock", "SIGTERM: termination", "SIGSTKFLT: stack fault", "SIGCHLD: child status has changed",
    "SIGCONT: continue", "SIGSTOP: stop, unblockable", "SIGTSTP: keyboard stop", "SIGTTIN: background read from tty",
    "SIGTTOU: background write to tty", "SIGURG: urgent condition on socket", "SIGXCPU: cpu limit exceeded",
    "SIGXFSZ: file size limit exceeded", "SIGVTALRM: virtual alarm clock", "SIGPROF: profiling alarm clock",
    "SIGWINCH: window size change", "SIGIO: i/o now possible", "SIGPWR: power failure restart",
    "SIGSYS: bad system call"};

// dopanic_m's line after the panics when the goroutine's panic came from a signal (sigpanic set g.sig):
// "[signal SIGSEGV: segmentation violation code=0x1 addr=0x8 pc=0x4a2c23]".
std::string signal_line(const unwind::Memory& m, const unwind::GoRuntimeLayout& layout, uint64_t g_addr) {
  const auto& g = layout.g;
  if (g.sig == 0) return "";
  auto sig = m.read_value<uint32_t>(g_addr + g.sig);
  auto code = m.read_u64(g_addr + g.sigcode0), addr = m.read_u64(g_addr + g.sigcode1), pc = m.read_u64(g_addr + g.sigpc);
  if (!sig || *sig == 0 || !code || !addr || !pc) return "";
  std::string name = *sig < std::size(kRuntimeSignalNames) ? kRuntimeSignalNames[*sig]
                     : *sig <= 64                          ? "signal " + std::to_string(*sig)
                                                           : hex_string(*sig);
  return "[signal " + name + " code=" + hex_string(*code) + " addr=" + hex_string(*addr) + " pc=" + hex_string(*pc) + "]\n";
}

}  // namespace

std::string crashing_panic_text(const unwind::Memory& memory, const unwind::GoRuntimeLayout& layout, uint64_t g_addr,
                                uint64_t stack_lo, uint64_t stack_hi, uint64_t types_base) {
  auto chain = unwind::read_panic_chain(memory, layout, g_addr, stack_lo, stack_hi);
  if (!chain) return "panic: (goperf cannot read the panic: " + chain.error().message() + ")\n";
  std::string text = format_panic_chain(memory, *chain, types_base, layout.go_minor);
  return text.empty() ? text : text + signal_line(memory, layout, g_addr);
}

std::string fatal_error_text(const unwind::Memory& memory, const unwind::AddressSpace& space,
                             const unwind::GoRuntimeLayout& layout, const unwind::FatalSearch& where,
                             uint64_t types_base) {
  auto m = unwind::read_fatal_message(memory, space, where);
  if (!m) return "";
  std::string text;
  if (m->panic_head != 0) {
    // fatal's printPreFatalDeferPanic (1.26, 1.27): the panics running defers when fatal was called, printed as
    // printpanics prints them (their values as they are: preprintpanics is not called), then a tab.
    const bool on_curg = m->g == where.curg && where.curg != 0;
    auto chain = unwind::read_panic_chain(memory, layout, m->g, on_curg ? where.curg_stack_lo : where.thread_stack_lo,
                                          on_curg ? where.curg_stack_hi : where.thread_stack_hi);
    if (!chain || chain->empty() || chain->front().addr != m->panic_head) return "";
    text = format_panic_chain(memory, *chain, types_base, layout.go_minor) + "\t";
  }
  // throw and fatal print s with printindented since the release printpanicval does (see indented above).
  text += "fatal error: " + indented(m->text, layout.go_minor) + "\n";
  return text + signal_line(memory, layout, m->g);
}

std::string signal_code_name(int signo, int code) {
  switch (code) {  // codes any signal can carry (asm-generic/siginfo.h)
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    default: break;
  }
  static constexpr const char* kSegv[] = {"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
                                          "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
                                          "SEGV_MTESERR", "SEGV_CPERR"};
  static constexpr const char* kBus[] = {"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"};
  static constexpr const char* kIll[] = {"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
                                         "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"};
  static constexpr const char* kFpe[] = {"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND",
                                         "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "FPE_FLTUNK", "FPE_CONDTRAP"};
  static constexpr const char* kTrap[] = {"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"};
  auto pick = [code](const auto& names) -> const char* {
    return code >= 1 && static_cast<size_t>(code) <= std::size(names) ? names[code - 1] : nullptr;
  };
  const char* name = signo == SIGSEGV ? pick(kSegv)
                     : signo == SIGBUS ? pick(kBus)
                     : signo == SIGILL ? pick(kIll)
                     : signo == SIGFPE ? pick(kFpe)
                     : signo == SIGTRAP ? pick(kTrap)
                                        : nullptr;
  return name != nullptr ? name : hex_string(static_cast<uint32_t>(code));
}

}  // namespace goperf::profiler

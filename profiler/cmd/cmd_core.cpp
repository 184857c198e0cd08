// goperf core [BINARY] CORE: the goroutine dump of a core file of a Go program, through the same walker,
// runtime layouts and writers as `goperf snapshot`, with CoreMemory standing in for the live process.
#include <signal.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>

#include "profiler/commands.h"
#include "profiler/json_string.h"
#include "profiler/options/core_options.h"
#include "profiler/core/core_panic_header.h"
#include "profiler/core/core_crash_site.h"
#include "profiler/dump/dump_origin.h"
#include "profiler/dump/goroutine_dump.h"
#include "profiler/dump/goroutine_dump_reader.h"
#include "profiler/dump/goroutine_dump_writer.h"
#include "profiler/dump/goroutine_waits.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/core_executable.h"
#include "unwind/core_file.h"
#include "unwind/signal_frame.h"
#include "unwind/core_memory.h"
#include "unwind/fatal_message.h"
#include "unwind/go_target.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"

namespace goperf::profiler {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf core: %s\n", message.c_str());
  return 1;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Whose core it is, from NT_FILE (the executable's path) and NT_PRPSINFO (pid and command line).
std::string core_program(const unwind::CoreFile& core) {
  const unwind::CoreMappedFile* exe = core.executable_mapping();
  const unwind::CoreProcessInfo& p = core.process();
  std::string who = exe != nullptr ? exe->path : p.present ? p.fname : "an unknown program";
  if (!p.present) return who;
  std::string args = p.psargs;
  while (!args.empty() && args.back() == ' ') args.pop_back();
  return who + " (pid " + std::to_string(p.pid) + (args.empty() ? "" : ": " + args) + ")";
}

// moduledata.types of the program: the base of its type names (0 when not found: names are then unreadable).
uint64_t types_base(const unwind::Memory& mem, const unwind::RuntimeGlobals& g, uint64_t bias,
                    const unwind::GoRuntimeLayout& layout) {
  if (g.firstmoduledata == 0) return 0;
  auto v = mem.read_u64(g.firstmoduledata + bias + layout.moduledata.types);
  return v ? *v : 0;
}

bool is_fault(int sig) { return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP; }

struct Header {
  std::string core, compression, executable, go_version, match;
  int signo = 0, code = 0;
  int reraised_as = 0;  // the signal the process finally died of, when the runtime re-raised another
  uint64_t addr = 0;
  bool has_addr = false;
  uint32_t pid = 0, tid = 0;
  uint64_t goid = 0;  // 0: the crashing thread ran no goroutine (scheduler, C thread)
  std::string thread_g;  // "", "g0", "gsignal"
  std::string panic;     // the runtime's "panic: ..." lines, or its "fatal error:" line (core_panic_header.h)
  CrashSite site;        // the crashing goroutine's first frame of the program's own code
  size_t threads = 0, goroutines = 0;
  DumpOrigin origin;  // pid and time of the core (snapshot --diff reads them back)
};

std::string header_text(const Header& h) {
  std::ostringstream o;
  o << "core: " << h.core;
  if (!h.compression.empty()) o << " (" << h.compression << ")";
  o << "\nexecutable: " << h.executable << " (" << h.go_version << "; " << h.match << ")\n";
  o << "process: " << h.pid << ", " << h.threads << " threads, " << h.goroutines << " goroutines\n";
  if (h.signo != 0) {
    o << "signal: " << signal_name(h.signo) << " (" << sigdescr_np(h.signo) << ") code=" << signal_code_name(h.signo, h.code);
    if (h.has_addr) o << " addr=" << hex_string(h.addr);
    if (h.reraised_as != 0) o << ", then " << signal_name(h.reraised_as) << " from the runtime's crash handler";
    o << "\n";
  }
  o << h.panic;
  if (!h.site.function.empty())
    o << "in: " << h.site.function << " at " << h.site.file << ":" << h.site.line << "\n";
  o << "crashing thread: " << h.tid;
  if (h.goid != 0) o << ", goroutine " << h.goid;
  if (!h.thread_g.empty()) o << " (thread on its " << h.thread_g << " stack)";
  o << "\n\n";
  return o.str();
}

std::string header_json(const Header& h) {
  std::ostringstream o;
  o << "{\"core\":" << json_string(h.core) << ",\"compression\":" << json_string(h.compression)
    << ",\"executable\":" << json_string(h.executable) << ",\"go_version\":" << json_string(h.go_version)
    << ",\"match\":" << json_string(h.match) << ",\"pid\":" << h.pid;
  char taken[48];
  std::snprintf(taken, sizeof taken, ",\"taken_at\":%.6f", h.origin.taken_at);
  o << taken << ",\"threads\":" << h.threads
    << ",\"goroutines\":" << h.goroutines << ",\"signal\":" << h.signo
    << ",\"signal_name\":" << json_string(h.signo ? signal_name(h.signo) : "") << ",\"signal_code\":" << h.code
    << ",\"signal_code_name\":" << json_string(h.signo ? signal_code_name(h.signo, h.code) : "")
    << ",\"panic\":" << json_string(h.panic);
  if (!h.site.function.empty())
    o << ",\"crash_site\":{\"function\":" << json_string(h.site.function) << ",\"file\":" << json_string(h.site.file)
      << ",\"line\":" << h.site.line << ",\"pc\":" << json_string(hex_string(h.site.pc)) << "}";
  if (h.has_addr) o << ",\"fault_addr\":" << json_string(hex_string(h.addr));
  if (h.reraised_as != 0) o << ",\"died_of\":" << h.reraised_as;
  o << ",\"crashing_tid\":" << h.tid << ",\"crashing_goroutine\":" << h.goid << "}";
  return o.str();
}

// The executable a core was made of, found and checked against the core.
struct CoreExecutable {
  std::string path;  // absolute: the address space takes only paths starting with '/' for file-backed mappings
  std::shared_ptr<const symbolize::Module> module;
  uint64_t bias = 0;
  std::string match;  // how it was matched to the core, for the header
};

// BINARY, else the file NT_FILE names (under --sysroot); empty with the error printed when none.
Result<std::string> executable_path(const CoreOptions& opt, const unwind::CoreFile& core, const unwind::CoreMemory& mem,
                                    const unwind::CoreMappedFile* exe_map) {
  if (!opt.binary.empty()) return std::filesystem::absolute(opt.binary).lexically_normal().string();
  if (exe_map == nullptr && !core.execfn().empty())
    return make_error(ErrorCode::kNotFound, "cannot find the executable " + core.execfn() +
                                                " the core was made from (AT_EXECFN; the core has no NT_FILE): give it as BINARY before CORE");
  if (exe_map == nullptr)
    return make_error(ErrorCode::kNotFound, opt.core + ": the core names no executable (no NT_FILE, no AT_EXECFN): give BINARY before CORE");
  std::string path = mem.local_path(exe_map->path);
  if (path.empty()) {
    std::string wanted = unwind::strip_deleted_suffix(exe_map->path);
    return make_error(ErrorCode::kNotFound, "cannot find the executable " + opt.sysroot + wanted +
                                                " the core was made from: give it as BINARY before CORE" +
                                                (opt.sysroot.empty() ? " (or --sysroot DIR)" : ""));
  }
  return std::filesystem::absolute(path).lexically_normal().string();
}

Status open_executable(const CoreOptions& opt, const unwind::CoreFile& core, const unwind::CoreMemory& mem,
                       CoreExecutable& out) {
  const unwind::CoreMappedFile* exe_map = core.executable_mapping();
  auto path = executable_path(opt, core, mem, exe_map);
  if (!path) return std::move(path).error();
  out.path = *path;
  auto module = symbolize::Module::open(out.path);
  if (!module) return std::move(module).error();
  out.module = *module;
  const symbolize::ElfFile& exe = out.module->elf();
  if (!out.module->is_go()) return make_error(ErrorCode::kFormat, out.path + ": not a Go program (no pclntab): goperf core reads cores of Go programs");
  if (exe.machine() != core.elf().machine()) return make_error(ErrorCode::kFormat, out.path + ": built for another machine than the core");
  auto bias = unwind::core_load_bias(mem, exe);
  if (!bias && !opt.force)
    return make_error(ErrorCode::kFormat, "the core has no mapping of " + out.path + ": it is a core of " +
                                              core_program(core) + " (--force to try anyway)");
  out.bias = bias ? *bias : 0;
  auto match = unwind::match_core_executable(mem, exe, out.bias);
  if (match.verdict == unwind::CoreMatch::Verdict::kMismatch && !opt.force) {
    if (exe_map == nullptr || unwind::strip_deleted_suffix(exe_map->path) == out.path)
      return make_error(ErrorCode::kFormat, out.path + " does not match the core: " + match.how + " (--force to go on anyway)");
    return make_error(ErrorCode::kFormat, opt.core + " is a core of " + core_program(core) + ", not of " + out.path +
                                              ": " + match.how + " (--force to go on anyway)");
  }
  out.match = match.verdict == unwind::CoreMatch::Verdict::kMatch    ? "matches the core by " + match.how
              : match.verdict == unwind::CoreMatch::Verdict::kUnknown ? "not verified: " + match.how
                                                                      : "MISMATCH, forced: " + match.how;
  return {};
}

// Address space from NT_FILE, with the executable we checked standing for its mappings.
std::unique_ptr<unwind::AddressSpace> core_address_space(const unwind::CoreFile& core, const unwind::CoreMemory& mem,
                                                         const CoreExecutable& exe) {
  const unwind::CoreMappedFile* exe_map = core.executable_mapping();
  std::vector<unwind::AddressSpace::FileMapping> files;
  for (const auto& f : core.mapped_files()) {
    std::string local = mem.local_path(f.path);
    bool is_exe = exe_map != nullptr && f.path == exe_map->path;
    files.push_back({f.start, f.end, f.file_offset, is_exe ? exe.path : (local.empty() ? f.path : local)});
  }
  auto space = unwind::AddressSpace::from_file_mappings(files);
  space->set_module(exe.path, exe.module);
  return space;
}

// Every thread's registers; threads that died inside the Go signal handler (GOTRACEBACK=crash) are shown
// from where the signal hit. Returns the first signal the runtime's handler caught before it aborted.
unwind::CrossedSignal thread_registers(const unwind::CoreFile& core, const unwind::CoreMemory& mem,
                               const unwind::AddressSpace& space, std::vector<ThreadRegisters>& out) {
  unwind::CrossedSignal first_signal;
  for (const auto& t : core.threads()) {
    unwind::RegisterSet regs = t.regs;
    unwind::CrossedSignal crossed = unwind::cross_signal_frames(mem, space, regs);
    if (crossed.signo != 0 && first_signal.signo == 0 && t.cursig != 0) first_signal = crossed;
    out.push_back({static_cast<int>(t.tid), regs});
  }
  return first_signal;
}

// The header's signal: the one the core says, or the one the runtime caught before it died of another
// (crash -> dieFromSignal -> SIGABRT).
void set_signal(const unwind::CoreFile& core, const unwind::CrossedSignal& first_signal, Header& h) {
  const auto& sig = core.signal();
  const unwind::CoreThread* crashing = core.crashing_thread();
  h.signo = sig.present ? sig.signo : (crashing ? crashing->cursig : 0);
  h.code = sig.code;
  h.has_addr = sig.present && is_fault(sig.signo) && sig.code > 0;  // si_code > 0: sent by the kernel
  h.addr = sig.addr;
  if (first_signal.signo != 0 && first_signal.signo != h.signo) {
    h.reraised_as = h.signo;
    h.signo = first_signal.signo;
    h.code = first_signal.code;
    h.addr = first_signal.addr;
    h.has_addr = is_fault(first_signal.signo) && first_signal.code > 0;
  }
}

// The crashing thread, the g it ran, and that goroutine moved to the front of the list: the runtime
// prints the crashing goroutine first (traceback.go tracebackothers after the current g).
// A fatal error: what throw or fatal printed replaces any panic in progress (throw prints none of it; fatal
// prints it before its own line, and fatal_error_text includes it then).
void set_crashing_thread(const unwind::CoreFile& core, const unwind::GoTarget& target, const unwind::AddressSpace& space,
                         const std::vector<ThreadRegisters>& threads, unwind::GoroutineList& list, Header& h) {
  const unwind::CoreThread* crashing = core.crashing_thread();
  if (crashing == nullptr) return;
  h.tid = crashing->tid;
  if (h.pid == 0) h.pid = crashing->tid;
  auto tg = target.current_g(target.memory(), crashing->regs);
  if (!tg) return;
  if (tg->kind == unwind::ThreadG::Kind::kG0) h.thread_g = "g0";
  if (tg->kind == unwind::ThreadG::Kind::kGsignal) h.thread_g = "gsignal";
  auto& gs = list.goroutines;
  const unwind::GoroutineInfo* curg = nullptr;
  for (const auto& g : gs)
    if (g.g_addr == tg->curg && tg->curg != 0) curg = &g;
  // The crashing thread's registers past its signal frames (threads), as its walk in the dump starts.
  unwind::RegisterSet regs = crashing->regs;
  for (const auto& t : threads)
    if (t.tid == static_cast<int>(crashing->tid)) regs = t.regs;
  const unwind::Memory& mem = target.memory();
  const uint64_t types = types_base(mem, target.globals(), target.bias(), target.layout());
  const std::string fatal = fatal_error_text(
      mem, space, target.layout(), unwind::fatal_search_for(mem, target.layout(), regs, *tg, curg), types);
  for (size_t i = 0; i < gs.size() && tg->curg != 0; i++) {
    if (gs[i].g_addr != tg->curg) continue;
    h.goid = gs[i].goid;
    h.panic = crashing_panic_text(mem, target.layout(), gs[i].g_addr, gs[i].stack_lo, gs[i].stack_hi, types);
    std::rotate(gs.begin(), gs.begin() + static_cast<std::ptrdiff_t>(i), gs.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    break;
  }
  if (!fatal.empty()) h.panic = fatal;
}

// The crashing goroutine's own frame (it is first in the list), and for an abort with neither a panic nor a
// readable fatal error message, a line that says so.
void set_crash_site(DumpInput& in, Header& h) {
  if (h.goid != 0) {
    unwind::GoroutineList one;
    one.goroutines.push_back(in.list->goroutines.front());
    const unwind::GoroutineList* all = in.list;
    in.list = &one;
    h.site = find_crash_site(in, 0);
    in.list = all;
  }
  // crash() raises SIGABRT with tgkill: the runtime aborted by itself (throw or fatal), and its message could
  // not be read from throw's or fatal's frame (fatal_error_text).
  if (h.panic.empty() && h.signo == SIGABRT && h.reraised_as == 0 && h.code == SI_TKILL)
    h.panic = "fatal error: (message not kept in memory: the runtime printed it to the program's stderr)\n";
}

Status make_request(const CoreOptions& opt, DumpRequest& r) {
  r.format = opt.format;
  r.filter = opt.filter;
  r.group = opt.group;
  r.waits = opt.waits;
  r.level = TracebackLevel::kSystem;
  if (opt.diff.empty()) return {};
  auto old = read_goroutine_dump_json(opt.diff, TracebackLevel::kSystem);
  if (!old) return std::move(old).error();
  r.old_dump = std::move(*old);
  r.diff_path = opt.diff;
  return {};
}

Status write_output(const std::string& output, DumpInput& in, DumpRequest& request, const unwind::Memory& mem) {
  auto builder = GoroutineDumpBuilder::create(in);
  if (!builder) return std::move(builder).error();
  int fd = STDOUT_FILENO;
  if (!output.empty()) {
    fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return make_error(ErrorCode::kIo, output + ": cannot write: " + std::strerror(errno));
  }
  DumpSink sink(fd);
  GoroutineWaits waits(mem, in.go_minor);
  write_goroutine_dump(**builder, request, waits, in.go_version, in.threads.size(), in.go_minor, sink);
  bool written = sink.ok();
  if (fd != STDOUT_FILENO) written = ::close(fd) == 0 && written;
  if (!written) return make_error(ErrorCode::kIo, (output.empty() ? std::string("the output") : output) + ": cannot write");
  return {};
}

}  // namespace

int run_core(const Args& args) {
  CoreOptions opt;
  if (!parse_core_options(args, opt)) return 0;
  DumpRequest request;
  if (auto st = make_request(opt, request); !st) return fail(st.error().message());
  auto core = unwind::CoreFile::open(opt.core, opt.binary);
  if (!core) return fail(core.error().message());
  auto memory = unwind::CoreMemory::create(*core, {opt.binary, opt.sysroot});
  if (!memory) return fail(memory.error().message());
  const unwind::CoreMemory& mem = **memory;
  CoreExecutable exe;
  if (auto st = open_executable(opt, **core, mem, exe); !st) return fail(st.error().message());
  auto space = core_address_space(**core, mem, exe);
  auto target = unwind::GoTarget::open(mem, *exe.module, exe.bias, "the core");
  if (!target) return fail(target.error().message());
  if (!(*target)->layout_note().empty()) std::fprintf(stderr, "goperf core: %s\n", (*target)->layout_note().c_str());
  auto list = (*target)->lister().list(mem);
  if (!list) return fail("reading the goroutines from the core: " + list.error().message());

  DumpInput in;
  in.memory = &mem;
  in.space = space.get();
  in.target = target->get();
  in.layout = &(*target)->layout();
  in.list = &*list;
  in.go_version = (*target)->go_version();
  in.go_minor = (*target)->layout().go_minor;
  const unwind::CrossedSignal first_signal = thread_registers(**core, mem, *space, in.threads);

  Header h;
  h.core = opt.core;
  h.compression = (*core)->compression() ? (*core)->compression() : "";
  h.executable = exe.path;
  h.go_version = in.go_version.empty() ? "Go version unknown" : in.go_version;
  h.match = exe.match;
  h.pid = (*core)->process().pid;
  h.threads = (*core)->threads().size();
  h.goroutines = list->goroutines.size();
  set_signal(**core, first_signal, h);
  set_crashing_thread(**core, **target, *space, in.threads, *list, h);
  set_crash_site(in, h);
  h.origin = core_dump_origin(opt.core, h.pid);
  request.header = opt.format == "json" ? header_json(h) : header_text(h);
  request.origin = h.origin;
  if (auto st = write_output(opt.output, in, request, mem); !st) return fail(st.error().message());
  return 0;
}

}  // namespace goperf::profiler

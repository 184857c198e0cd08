// goperf core [BINARY] CORE: the goroutine dump of a core file of a Go program, through the same walker,
// runtime layouts and writers as `goperf snapshot`, with CoreMemory standing in for the live process.
#include <signal.h>

#include <algorithm>
#include <optional>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "profiler/commands.h"
#include "profiler/json_string.h"
#include "profiler/core_crash_site.h"
#include "profiler/core_options.h"
#include "profiler/core_panic_header.h"
#include "profiler/core_signal_frame.h"
#include "profiler/goroutine_diff.h"
#include "profiler/goroutine_dump.h"
#include "profiler/goroutine_dump_reader.h"
#include "profiler/goroutine_filter.h"
#include "profiler/goroutine_groups.h"
#include "profiler/goroutine_waits.h"
#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/core_executable.h"
#include "unwind/core_file.h"
#include "unwind/core_memory.h"
#include "unwind/fatal_message.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"
#include "unwind/runtime_globals.h"

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
    << ",\"match\":" << json_string(h.match) << ",\"pid\":" << h.pid << ",\"threads\":" << h.threads
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

}  // namespace

int run_core(const Args& args) {
  CoreOptions opt;
  if (!parse_core_options(args, opt)) return 0;

  std::optional<RecordedDump> old_dump;  // --diff
  if (!opt.diff.empty()) {
    auto old = read_goroutine_dump_json(opt.diff, TracebackLevel::kSystem);
    if (!old) return fail(old.error().message());
    old_dump = std::move(*old);
  }
  auto core = unwind::CoreFile::open(opt.core);
  if (!core) return fail(core.error().message());
  auto memory = unwind::CoreMemory::create(*core, {opt.binary, opt.sysroot});
  if (!memory) return fail(memory.error().message());
  const unwind::CoreMemory& mem = **memory;

  // The executable: BINARY, else the file NT_FILE names (under --sysroot).
  const unwind::CoreMappedFile* exe_map = (*core)->executable_mapping();
  std::string exe_path = opt.binary;
  if (exe_path.empty()) {
    if (exe_map == nullptr) return fail(opt.core + ": the core names no executable (no NT_FILE/auxv): give BINARY before CORE");
    exe_path = mem.local_path(exe_map->path);
    if (exe_path.empty()) {
      std::string wanted = unwind::strip_deleted_suffix(exe_map->path);
      return fail("cannot find the executable " + opt.sysroot + wanted + " the core was made from: give it as BINARY before CORE" +
                  (opt.sysroot.empty() ? " (or --sysroot DIR)" : ""));
    }
  }
  // Absolute: the address space takes only paths starting with '/' for file-backed mappings.
  exe_path = std::filesystem::absolute(exe_path).lexically_normal().string();
  auto module = symbolize::Module::open(exe_path);
  if (!module) return fail(module.error().message());
  const symbolize::ElfFile& exe = (*module)->elf();
  if ((*module)->pclntab() == nullptr) return fail(exe_path + ": not a Go program (no pclntab): goperf core reads cores of Go programs");
  if (exe.machine() != (*core)->elf().machine()) return fail(exe_path + ": built for another machine than the core");

  auto bias = unwind::core_load_bias(mem, exe);
  if (!bias) {
    if (!opt.force) return fail("the core has no mapping of " + exe_path + ": it is a core of " + core_program(**core) +
                                  " (--force to try anyway)");
    bias = 0;
  }
  auto match = unwind::match_core_executable(mem, exe, *bias);
  if (match.verdict == unwind::CoreMatch::Verdict::kMismatch && !opt.force) {
    if (exe_map == nullptr || unwind::strip_deleted_suffix(exe_map->path) == exe_path)
      return fail(exe_path + " does not match the core: " + match.how + " (--force to go on anyway)");
    return fail(opt.core + " is a core of " + core_program(**core) + ", not of " + exe_path + ": " + match.how +
                " (--force to go on anyway)");
  }
  std::string match_text = match.verdict == unwind::CoreMatch::Verdict::kMatch    ? "matches the core by " + match.how
                           : match.verdict == unwind::CoreMatch::Verdict::kUnknown ? "not verified: " + match.how
                                                                                   : "MISMATCH, forced: " + match.how;

  // Address space from NT_FILE, with the executable we checked standing for its mappings.
  std::vector<unwind::AddressSpace::FileMapping> files;
  for (const auto& f : (*core)->mapped_files()) {
    std::string local = mem.local_path(f.path);
    bool is_exe = exe_map != nullptr && f.path == exe_map->path;
    files.push_back({f.start, f.end, f.file_offset, is_exe ? exe_path : (local.empty() ? f.path : local)});
  }
  auto space = unwind::AddressSpace::from_file_mappings(files);
  space->set_module(exe_path, *module);

  const symbolize::BuildInfo* bi = (*module)->build_info();
  int minor = bi != nullptr ? bi->minor_version() : 0;
  auto globals = unwind::find_runtime_globals(**module);
  if (!globals) return fail(exe_path + ": " + globals.error().message());
  // The table for this Go version, checked against the core's g's before it is trusted.
  auto verified = unwind::verify_layout(mem, *globals, *bias, minor);
  if (!verified) return fail("reading the goroutines from the core: " + verified.error().message());
  unwind::LayoutChoice choice = *verified;
  if (auto note = unwind::layout_note(choice, minor, true); !note.empty())
    std::fprintf(stderr, "goperf core: %s\n", note.c_str());
  unwind::GoroutineLister lister(*choice.layout, *globals, *bias, unwind::find_wait_reasons(exe));
  auto list = lister.list(mem);
  if (!list) return fail("reading the goroutines from the core: " + list.error().message());

  CrossedSignal first_signal;  // the signal the runtime's handler caught before it aborted
  DumpInput in;
  in.memory = &mem;
  in.space = space.get();
  in.layout = choice.layout;
  for (const auto& t : (*core)->threads()) {
    // Threads that died inside the Go signal handler (GOTRACEBACK=crash) are shown from where the signal hit.
    unwind::RegisterSet regs = t.regs;
    // A fatal signal's handler re-raises it (dieFromSignal), nesting a second handler frame: cross each.
    CrossedSignal crossed;
    for (int depth = 0; depth < 4 && cross_signal_frame(mem, *space, regs, &crossed); depth++) {
    }
    if (crossed.signo != 0 && first_signal.signo == 0 && t.cursig != 0) first_signal = crossed;
    in.threads.push_back({static_cast<int>(t.tid), regs});
  }
  in.tls_offsets = unwind::tls_g_offsets(exe);
  in.go_version = bi ? bi->go_version : "";
  in.go_minor = choice.layout->go_minor;

  Header h;
  h.core = opt.core;
  h.compression = (*core)->compression() ? (*core)->compression() : "";
  h.executable = exe_path;
  h.go_version = in.go_version.empty() ? "Go version unknown" : in.go_version;
  h.match = match_text;
  h.pid = (*core)->process().pid;
  h.threads = (*core)->threads().size();
  h.goroutines = list->goroutines.size();
  const auto& sig = (*core)->signal();
  const unwind::CoreThread* crashing = (*core)->crashing_thread();
  h.signo = sig.present ? sig.signo : (crashing ? crashing->cursig : 0);
  h.code = sig.code;
  h.has_addr = sig.present && is_fault(sig.signo) && sig.code > 0;  // si_code > 0: sent by the kernel
  h.addr = sig.addr;
  if (first_signal.signo != 0 && first_signal.signo != h.signo) {
    // The runtime caught this signal and then died with another (crash -> dieFromSignal -> SIGABRT).
    h.reraised_as = h.signo;
    h.signo = first_signal.signo;
    h.code = first_signal.code;
    h.addr = first_signal.addr;
    h.has_addr = is_fault(first_signal.signo) && first_signal.code > 0;
  }
  std::string fatal;  // the runtime's "fatal error: ..." lines, when throw's or fatal's message can be read
  if (crashing != nullptr) {
    h.tid = crashing->tid;
    if (h.pid == 0) h.pid = crashing->tid;
    auto f = (*module)->pclntab()->find_func(crashing->regs.pc - *bias);
    bool in_go = f && !(f->flag & symbolize::Pclntab::kFlagAsm);
    if (auto tg = unwind::current_g(mem, crashing->regs, in_go, *choice.layout, in.tls_offsets)) {
      if (tg->kind == unwind::ThreadG::Kind::kG0) h.thread_g = "g0";
      if (tg->kind == unwind::ThreadG::Kind::kGsignal) h.thread_g = "gsignal";
      // The runtime prints the crashing goroutine first (traceback.go tracebackothers after the current g).
      auto& gs = list->goroutines;
      const unwind::GoroutineInfo* curg = nullptr;
      for (const auto& g : gs)
        if (g.g_addr == tg->curg && tg->curg != 0) curg = &g;
      // The crashing thread's registers past its signal frames (in.threads), as its walk in the dump starts.
      unwind::RegisterSet regs = crashing->regs;
      for (const auto& t : in.threads)
        if (t.tid == static_cast<int>(crashing->tid)) regs = t.regs;
      fatal = fatal_error_text(mem, *space, *choice.layout, unwind::fatal_search_for(mem, *choice.layout, regs, *tg, curg),
                               types_base(mem, *globals, *bias, *choice.layout));
      for (size_t i = 0; i < gs.size() && tg->curg != 0; i++) {
        if (gs[i].g_addr != tg->curg) continue;
        h.goid = gs[i].goid;
        h.panic = crashing_panic_text(mem, *choice.layout, gs[i].g_addr, gs[i].stack_lo, gs[i].stack_hi,
                                      types_base(mem, *globals, *bias, *choice.layout));
        std::rotate(gs.begin(), gs.begin() + static_cast<std::ptrdiff_t>(i), gs.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        break;
      }
    }
  }

  if (h.goid != 0) {
    // The crashing goroutine is first in the list (rotated above): walk it alone for its own frame.
    unwind::GoroutineList one;
    one.goroutines.push_back(list->goroutines.front());
    in.list = &one;
    h.site = find_crash_site(in, 0);
    in.list = nullptr;
  }
  // A fatal error: what throw or fatal printed replaces any panic in progress (throw prints none of it; fatal
  // prints it before its own line, and fatal_error_text includes it then).
  if (!fatal.empty()) h.panic = fatal;
  // The runtime aborted by itself (crash() raises SIGABRT with tgkill) without a panic: a fatal error (throw or
  // fatal) whose message could not be read from throw's or fatal's frame (fatal_error_text).
  if (h.panic.empty() && h.signo == SIGABRT && h.reraised_as == 0 && h.code == SI_TKILL)
    h.panic = "fatal error: (message not kept in memory: the runtime printed it to the program's stderr)\n";

  FILE* out = opt.output.empty() ? stdout : std::fopen(opt.output.c_str(), "wb");
  if (out == nullptr) return fail(opt.output + ": cannot write: " + std::strerror(errno));
  const bool json = opt.format == "json";
  std::string head = json ? "{\"header\":" + header_json(h) + ",\"dump\":" : header_text(h);
  if (!old_dump) std::fwrite(head.data(), 1, head.size(), out);
  // Goroutines are walked, symbolized and written in batches, so that memory stays bounded however many
  // goroutines the core holds (the dump of one batch is freed before the next is built).
  constexpr size_t kBatch = 2048;
  unwind::GoroutineList batch;
  batch.ms = list->ms;
  batch.dead = list->dead;
  in.list = &batch;
  bool any = false;
  GoroutineFilter filter(opt.filter);
  GoroutineGrouper grouper;
  size_t kept = 0;
  GoroutineWaits waits(mem, in.go_minor);
  for (size_t start = 0; start < list->goroutines.size() || (start == 0 && json); start += kBatch) {
    size_t end = std::min(list->goroutines.size(), start + kBatch);
    batch.goroutines.assign(list->goroutines.begin() + static_cast<std::ptrdiff_t>(start),
                            list->goroutines.begin() + static_cast<std::ptrdiff_t>(end));
    auto dump = build_goroutine_dump(in);
    if (!dump) {
      if (out != stdout) std::fclose(out);
      return fail(dump.error().message());
    }
    filter_and_group(*dump, filter, opt.group || old_dump ? &grouper : nullptr);
    std::vector<std::string> wait_fields(dump->goroutines.size());
    for (size_t i = 0; opt.waits && i < dump->goroutines.size(); ++i) wait_fields[i] = waits.add(dump->goroutines[i]);
    if (old_dump) {
      kept += dump->goroutines.size();
      if (end == list->goroutines.size()) break;
      continue;
    }
    std::string text;
    if (json) {
      // Splice the batch's goroutine array into one document: {"go_version":..,"goroutines":[ ... \n]}.
      std::string part;
      append_goroutine_dump_json_head(part, dump->go_version, dump->threads);
      for (size_t i = 0; i < dump->goroutines.size(); ++i)
        append_goroutine_dump_json(part, dump->goroutines[i], i == 0, wait_fields[i]);
      append_goroutine_dump_json_tail(part);
      size_t open = part.find("\"goroutines\":[") + 14, close = part.rfind("\n]}");
      if (start == 0) text = part.substr(0, open);
      std::string items = part.substr(open, close - open);
      if (!items.empty() && any) text += ",";
      if (!items.empty()) any = true;
      text += items;
    } else if (!opt.group && !dump->goroutines.empty()) {
      text = (any ? "\n" : "") + format_goroutine_dump_text(*dump);
      any = true;
    }
    std::fwrite(text.data(), 1, text.size(), out);
    if (end == list->goroutines.size()) break;
  }
  std::string tail = json ? "\n]}}\n" : "";
  if (old_dump) {
    DumpOrigin origin;
    origin.pid = h.pid;
    auto diff = diff_goroutine_dumps(std::move(*old_dump), opt.diff, grouper.take_groups(), kept, origin);
    tail = json ? format_goroutine_diff_json(diff) : format_goroutine_diff_text(diff);
  } else if (opt.group) {
    auto groups = grouper.take_groups();
    tail = json ? "\n],\"groups\":" : format_goroutine_groups_text(groups);
    if (json) append_goroutine_groups_json(tail, groups);
    if (json) tail += "}}\n";
  }
  if (opt.waits && !json && !old_dump) tail += "\n" + waits.summary_text();
  std::fwrite(tail.data(), 1, tail.size(), out);
  if (out != stdout && std::fclose(out) != 0) return fail(opt.output + ": cannot write: " + std::strerror(errno));
  return 0;
}

}  // namespace goperf::profiler

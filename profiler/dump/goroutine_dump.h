// GoroutineDump: every goroutine of a Go program (live or core) with its symbolized frames, as the
// runtime's SIGQUIT dump would show it (src/runtime/traceback.go tracebackothers), plus what the
// runtime cannot print (real stacks of running goroutines, C frames of threads in cgo calls).
// Built from Memory + AddressSpace + thread registers + the goroutine list; used by snapshot and core.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "symbolize/result.h"
#include "unwind/goroutine_lister.h"
#include "unwind/register_set.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {
class Memory;
class AddressSpace;
class GoTarget;
}  // namespace goperf::unwind

namespace goperf::profiler {

class DumpBuffer;  // profiler/dump/goroutine_dump_buffer.h

// Strings are views: into the module's pclntab, or into tables owned by the builder
// (GoroutineDumpBuilder::storage), so that thousands of goroutines sharing frames allocate nothing each.
struct DumpFrame {
  std::string_view function;  // as the runtime prints it (gopanic -> panic, generics -> [...] for 1.21+)
  std::string_view file;
  int line = 0;
  uint64_t pc = 0;         // runtime address
  uint64_t entry = 0;      // runtime entry of the physical function (0 when unknown)
  uint64_t sp = 0, fp = 0; // the physical frame's sp and caller's sp (printed at GOTRACEBACK=system)
  bool inlined = false;    // printed as `f(...)` without +0x offset
  bool is_go = true;       // false: a C frame named from .symtab/.dynsym
  bool exact_pc = false;
  bool shown = true;       // visible at GOTRACEBACK=all (runtime frames hidden: traceback.go showframe)
  std::string_view args;   // "0x1, 0x2" from FUNCDATA_ArgInfo; "..." for inlined frames; "" for none
};

struct GoroutineDump {
  uint64_t goid = 0;
  uint64_t g_addr = 0;
  uint32_t status = 0;           // raw atomicstatus
  std::string_view status_text;  // "chan receive", "running", ...
  int64_t wait_minutes = 0;      // printed when >= 1
  bool locked_to_thread = false;
  bool system = false;           // isSystemGoroutine: hidden from a GOTRACEBACK=all dump
  int thread_id = 0;             // Linux TID running it (running / syscall), 0 otherwise
  uint64_t m_addr = 0;           // g.m (0: m=nil)
  int64_t m_id = -1;             // that m's id
  std::vector<DumpFrame> frames; // innermost first, hidden frames included (see `shown`)
  unwind::StopReason stop_reason = unwind::StopReason::kTopFrame;
  // created by
  std::string_view creator;      // "" for goid 1 and when unknown
  std::string_view creator_file;
  int creator_line = 0;
  uint64_t creator_offset = 0;   // gopc - entry
  uint64_t parent_goid = 0;      // 1.21+
  bool creator_shown = true;     // the runtime hides runtime.* creators at level 1
};

struct ThreadRegisters {
  int tid = 0;
  unwind::RegisterSet regs;
};

struct DumpInput {
  const unwind::Memory* memory = nullptr;        // the target's memory (or copies of it)
  const unwind::AddressSpace* space = nullptr;
  const unwind::GoTarget* target = nullptr;      // which g each thread runs
  const unwind::GoRuntimeLayout* layout = nullptr;  // the target's layout
  std::vector<ThreadRegisters> threads;          // registers of every thread (live: ptrace; core: NT_PRSTATUS)
  const unwind::GoroutineList* list = nullptr;
  int64_t now_nanotime = 0;                      // the target's nanotime() at the snapshot; 0: no minutes
  std::string go_version;
  int go_minor = 0;
};

// Walks and symbolizes one goroutine at a time (for output streamed goroutine by goroutine: nothing
// per goroutine is kept). What a pc, a creator or a status symbolizes to is cached across goroutines.
class GoroutineDumpBuilder {
 public:
  // Fails only when the input is unusable (no Go module in the address space). The input (and the
  // list, memory and address space it points to) must outlive the builder.
  static Result<std::unique_ptr<GoroutineDumpBuilder>> create(const DumpInput& input);
  ~GoroutineDumpBuilder();
  GoroutineDumpBuilder(const GoroutineDumpBuilder&) = delete;
  GoroutineDumpBuilder& operator=(const GoroutineDumpBuilder&) = delete;

  size_t size() const;  // goroutines in the input list
  // Goroutine i of the input list into `out` (its frame vector is reused). Does not fail on one bad
  // goroutine: its frames end with its stop reason. With keep_args false, the argument strings of the
  // previous call are recycled (their views become invalid); the other views live as long as storage().
  void build(size_t i, GoroutineDump& out, bool keep_args = false);
  // Owns the strings the dumps' views point into.
  std::shared_ptr<const void> storage() const;

 private:
  struct Impl;
  explicit GoroutineDumpBuilder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Which frames and goroutines the text shows, as GOTRACEBACK levels (src/runtime/runtime1.go).
enum class TracebackLevel : uint8_t {
  kAll = 1,     // GOTRACEBACK=all: no system goroutines, runtime frames hidden (showframe)
  kSystem = 2,  // GOTRACEBACK=system: everything, with gp=/m= (1.21+) and fp= sp= pc=. SIGQUIT dumps
                // use this level: the runtime raises it for every runtime throw (gotraceback).
};

// One goroutine's text as the runtime prints it for the dump's Go version (100-frame limit before 1.21,
// 50+50 elision since), appended to `out`. The caller (profiler/dump/goroutine_dump_writer.cpp) puts "\n"
// between goroutines and skips system goroutines below kSystem.
void append_goroutine_dump_text(std::string& out, const GoroutineDump& g, int go_minor, TracebackLevel level);
void append_goroutine_dump_text(DumpBuffer& out, const GoroutineDump& g, int go_minor, TracebackLevel level);

// The same facts as JSON (every frame, hidden ones marked "shown": false), in pieces for streamed
// output: head, then each goroutine (`first` for the first one), then tail.
// `fields` ("\"name\":value," pairs, e.g. dump_origin_json_field) go before "goroutines".
void append_goroutine_dump_json_head(std::string& out, std::string_view go_version, size_t threads,
                                     std::string_view fields = {});
// `fields` ("\"name\":value," pairs, e.g. GoroutineWaits::add) go first in the goroutine's object.
void append_goroutine_dump_json(std::string& out, const GoroutineDump& g, bool first, std::string_view fields = {});
void append_goroutine_dump_json_tail(std::string& out);

}  // namespace goperf::profiler

// The runtime's goroutine dump text (src/runtime/traceback.go goroutineheader, traceback1/traceback2,
// printcreatedby1) at GOTRACEBACK=all, for the dump's Go version.
#include <charconv>
#include <cstdio>

#include "profiler/dump/goroutine_dump.h"
#include "profiler/dump/goroutine_dump_buffer.h"

namespace goperf::profiler {

namespace {

using B = DumpBuffer;

void append_frame(DumpBuffer& out, const DumpFrame& f, bool system) {
  char* p = out.reserve(f.function.size() + f.args.size() + f.file.size() + 128);
  if (!f.is_go) {
    // C code (cgo, libc): named from ELF symbols; no file:line without DWARF.
    p = B::put(p, f.function.empty() ? std::string_view("?") : f.function);
    p = B::put(p, "()\n\t?:0 ");
    if (f.entry != 0 && f.pc > f.entry) {
      p = B::put(p, '+');
      p = B::put_hex(p, f.pc - f.entry);
      p = B::put(p, ' ');
    }
    p = B::put(p, "pc=");
    p = B::put_hex(p, f.pc);
    out.commit(B::put(p, '\n'));
    return;
  }
  p = B::put(p, f.function);
  p = B::put(p, '(');
  p = B::put(p, f.args);
  p = B::put(p, ")\n\t");
  p = B::put(p, f.file);
  p = B::put(p, ':');
  p = B::put_dec(p, f.line);
  if (!f.inlined && f.pc > f.entry) {
    p = B::put(p, " +");
    p = B::put_hex(p, f.pc - f.entry);
  }
  if (system && !f.inlined) {
    p = B::put(p, " fp=");
    p = B::put_hex(p, f.fp);
    p = B::put(p, " sp=");
    p = B::put_hex(p, f.sp);
    p = B::put(p, " pc=");
    p = B::put_hex(p, f.pc);
  }
  out.commit(B::put(p, '\n'));
}

// goroutineheader: "goroutine N [status, M minutes, locked to thread]:" (gp/m/mp from Go 1.21 at
// GOTRACEBACK=system), and the line for a running goroutine whose stack cannot be read.
void append_header(DumpBuffer& out, const GoroutineDump& g, int minor, bool system) {
  char* p = out.reserve(g.status_text.size() + 256);
  p = B::put(p, "goroutine ");
  p = B::put_dec(p, g.goid);
  if (system && minor >= 21) {
    p = B::put(p, " gp=");
    p = B::put_hex(p, g.g_addr);
    if (g.m_addr != 0) {
      p = B::put(p, " m=");
      p = B::put_dec(p, g.m_id);
      p = B::put(p, " mp=");
      p = B::put_hex(p, g.m_addr);
    } else {
      p = B::put(p, " m=nil");
    }
  }
  p = B::put(p, " [");
  p = B::put(p, g.status_text);
  if (g.status & unwind::kGscan) p = B::put(p, " (scan)");
  if (g.wait_minutes >= 1) {
    p = B::put(p, ", ");
    p = B::put_dec(p, g.wait_minutes);
    p = B::put(p, " minutes");
  }
  if (g.locked_to_thread) p = B::put(p, ", locked to thread");
  p = B::put(p, "]:\n");
  if (g.frames.empty() && (g.status & ~uint32_t{unwind::kGscan}) == unwind::kGrunning) {
    p = B::put(p, "\tgoroutine running on other thread; stack unavailable\n");
  }
  out.commit(p);
}

// The frames the runtime would print: hidden runtime frames out; if that leaves none, all of them.
void append_frames(DumpBuffer& out, const GoroutineDump& g, int minor, bool system) {
  bool any = false;
  if (!system)
    for (const auto& f : g.frames) any = any || (f.shown && f.is_go);
  auto printed = [any](const DumpFrame& f) { return f.shown || !any; };
  if (minor >= 21) {
    // traceback1: the first 50 and the last 50 logical frames, "...N frames elided..." between.
    constexpr size_t kInner = 50, kOuter = 50;
    size_t count = 0;
    for (const auto& f : g.frames) count += printed(f);
    size_t k = 0;
    for (const auto& f : g.frames) {
      if (!printed(f)) continue;
      if (count > kInner + kOuter && k == kInner) {
        char* p = out.reserve(64);
        p = B::put(p, "...");
        p = B::put_dec(p, count - kInner - kOuter);
        out.commit(B::put(p, " frames elided...\n"));
      }
      if (count <= kInner + kOuter || k < kInner || k >= count - kOuter) append_frame(out, f, system);
      ++k;
    }
  } else {
    // gentraceback with max = _TracebackMaxFrames: 100 physical frames (shown or not).
    constexpr size_t kMax = 100;
    size_t phys = 0;  // Go physical frame number (inlined frames share their physical frame's)
    for (const auto& f : g.frames) {
      if (printed(f) && phys < kMax) append_frame(out, f, system);
      if (!f.inlined) ++phys;
    }
    if (phys >= kMax) out.append("...additional frames elided...\n");
  }
}

// printcreatedby1: "created by F in goroutine N" and its file:line +offset.
void append_created_by(DumpBuffer& out, const GoroutineDump& g, int minor, bool system) {
  if (g.creator.empty() || !(g.creator_shown || system)) return;
  char* p = out.reserve(g.creator.size() + g.creator_file.size() + 96);
  p = B::put(p, "created by ");
  p = B::put(p, g.creator);
  if (minor >= 21 && g.parent_goid != 0) {
    p = B::put(p, " in goroutine ");
    p = B::put_dec(p, g.parent_goid);
  }
  p = B::put(p, "\n\t");
  p = B::put(p, g.creator_file);
  p = B::put(p, ':');
  p = B::put_dec(p, g.creator_line);
  if (g.creator_offset != 0) {
    p = B::put(p, " +");
    p = B::put_hex(p, g.creator_offset);
  }
  out.commit(B::put(p, '\n'));
}

}  // namespace

void append_goroutine_dump_text(DumpBuffer& out, const GoroutineDump& g, int minor, TracebackLevel level) {
  const bool system = level == TracebackLevel::kSystem;
  append_header(out, g, minor, system);
  append_frames(out, g, minor, system);
  append_created_by(out, g, minor, system);
}

void append_goroutine_dump_text(std::string& out, const GoroutineDump& g, int minor, TracebackLevel level) {
  DumpBuffer b;
  append_goroutine_dump_text(b, g, minor, level);
  out += b.view();
}

}  // namespace goperf::profiler

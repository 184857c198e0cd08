// The runtime's goroutine dump text (src/runtime/traceback.go goroutineheader, traceback1/traceback2,
// printcreatedby1) at GOTRACEBACK=all, for the dump's Go version.
#include <charconv>
#include <cstdio>

#include "profiler/goroutine_dump.h"

namespace goperf::profiler {

namespace {

void append_hex(std::string& out, uint64_t v) {
  char buf[24] = "0x";
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
  out.append(buf, r.ptr);
}

template <typename T>
void append_dec(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_frame(std::string& out, const DumpFrame& f, bool system) {
  if (!f.is_go) {
    // C code (cgo, libc): named from ELF symbols; no file:line without DWARF.
    out += f.function.empty() ? std::string_view("?") : f.function;
    out += "()\n\t?:0 ";
    if (f.entry != 0 && f.pc > f.entry) {
      out += '+';
      append_hex(out, f.pc - f.entry);
      out += ' ';
    }
    out += "pc=";
    append_hex(out, f.pc);
    out += '\n';
    return;
  }
  out += f.function;
  out += '(';
  out += f.args;
  out += ")\n\t";
  out += f.file;
  out += ':';
  append_dec(out, f.line);
  if (!f.inlined && f.pc > f.entry) {
    out += " +";
    append_hex(out, f.pc - f.entry);
  }
  if (system && !f.inlined) {
    out += " fp=";
    append_hex(out, f.fp);
    out += " sp=";
    append_hex(out, f.sp);
    out += " pc=";
    append_hex(out, f.pc);
  }
  out += '\n';
}

}  // namespace

void append_goroutine_dump_text(std::string& out, const GoroutineDump& g, int minor, TracebackLevel level) {
  const bool system = level == TracebackLevel::kSystem;
  out += "goroutine ";
  append_dec(out, g.goid);
  if (system && minor >= 21) {
    out += " gp=";
    append_hex(out, g.g_addr);
    if (g.m_addr != 0) {
      out += " m=";
      append_dec(out, g.m_id);
      out += " mp=";
      append_hex(out, g.m_addr);
    } else {
      out += " m=nil";
    }
  }
  out += " [";
  out += g.status_text;
  if (g.status & unwind::kGscan) out += " (scan)";
  if (g.wait_minutes >= 1) {
    out += ", ";
    append_dec(out, g.wait_minutes);
    out += " minutes";
  }
  if (g.locked_to_thread) out += ", locked to thread";
  out += "]:\n";
  if (g.frames.empty() && (g.status & ~uint32_t{unwind::kGscan}) == unwind::kGrunning) {
    out += "\tgoroutine running on other thread; stack unavailable\n";
  }
  // The frames the runtime would print: hidden runtime frames out; if that leaves none, all of them.
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
        out += "...";
        append_dec(out, count - kInner - kOuter);
        out += " frames elided...\n";
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
    if (phys >= kMax) out += "...additional frames elided...\n";
  }
  if (!g.creator.empty() && (g.creator_shown || system)) {
    out += "created by ";
    out += g.creator;
    if (minor >= 21 && g.parent_goid != 0) {
      out += " in goroutine ";
      append_dec(out, g.parent_goid);
    }
    out += "\n\t";
    out += g.creator_file;
    out += ':';
    append_dec(out, g.creator_line);
    if (g.creator_offset != 0) {
      out += " +";
      append_hex(out, g.creator_offset);
    }
    out += '\n';
  }
}

std::string format_goroutine_dump_text(const GoroutineDumpResult& dump, TracebackLevel level) {
  const bool system = level == TracebackLevel::kSystem;
  std::string out;
  out.reserve(dump.goroutines.size() * 256);
  bool first = true;
  for (const auto& g : dump.goroutines) {
    if (g.system && !system) continue;  // tracebackothers skips them below GOTRACEBACK=system
    if (!first) out += "\n";
    first = false;
    append_goroutine_dump_text(out, g, dump.go_minor, level);
  }
  return out;
}

bool write_goroutine_dump_text(const GoroutineDumpResult& dump, std::FILE* out, TracebackLevel level) {
  const bool system = level == TracebackLevel::kSystem;
  std::string buf;
  bool first = true;
  for (const auto& g : dump.goroutines) {
    if (g.system && !system) continue;
    if (!first) buf += "\n";
    first = false;
    append_goroutine_dump_text(buf, g, dump.go_minor, level);
    if (buf.size() > (1u << 16)) {
      if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) return false;
      buf.clear();
    }
  }
  return std::fwrite(buf.data(), 1, buf.size(), out) == buf.size() && std::fflush(out) == 0;
}

}  // namespace goperf::profiler

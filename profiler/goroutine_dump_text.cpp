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

void append_frame(std::string& out, const DumpFrame& f, bool system) {
  if (!f.is_go) {
    // C code (cgo, libc): named from ELF symbols; no file:line without DWARF.
    out += f.function.empty() ? "?" : f.function;
    out += "()\n\t?:0 ";
    if (f.entry != 0 && f.pc > f.entry) {
      out += "+";
      append_hex(out, f.pc - f.entry);
      out += " ";
    }
    out += "pc=";
    append_hex(out, f.pc);
    out += "\n";
    return;
  }
  out += f.function;
  out += "(";
  out += f.args;
  out += ")\n\t";
  out += f.file;
  out += ":";
  out += std::to_string(f.line);
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
  out += "\n";
}

void append_goroutine(std::string& out, const GoroutineDump& g, int minor, bool system) {
  out += "goroutine " + std::to_string(g.goid);
  if (system && minor >= 21) {
    out += " gp=";
    append_hex(out, g.g_addr);
    if (g.m_addr != 0) {
      out += " m=" + std::to_string(g.m_id) + " mp=";
      append_hex(out, g.m_addr);
    } else {
      out += " m=nil";
    }
  }
  out += " [" + g.status_text;
  if (g.status & unwind::kGscan) out += " (scan)";
  if (g.wait_minutes >= 1) out += ", " + std::to_string(g.wait_minutes) + " minutes";
  if (g.locked_to_thread) out += ", locked to thread";
  out += "]:\n";
  if (g.frames.empty() && (g.status & ~uint32_t{unwind::kGscan}) == unwind::kGrunning) {
    out += "\tgoroutine running on other thread; stack unavailable\n";
  }
  // The frames the runtime would print: hidden runtime frames out; if that leaves none, all of them.
  std::vector<const DumpFrame*> shown;
  std::vector<size_t> physical_index;  // Go physical frame number of each shown frame (1.19/1.20 limit)
  size_t phys = 0;
  bool any = false;
  for (const auto& f : g.frames) any = any || (f.shown && f.is_go);
  if (system) any = false;
  for (const auto& f : g.frames) {
    if (f.shown || !any) {
      shown.push_back(&f);
      physical_index.push_back(phys);
    }
    if (!f.inlined) ++phys;
  }
  if (minor >= 21) {
    // traceback1: the first 50 and the last 50 logical frames, "...N frames elided..." between.
    constexpr size_t kInner = 50, kOuter = 50;
    if (shown.size() > kInner + kOuter) {
      for (size_t i = 0; i < kInner; ++i) append_frame(out, *shown[i], system);
      out += "..." + std::to_string(shown.size() - kInner - kOuter) + " frames elided...\n";
      for (size_t i = shown.size() - kOuter; i < shown.size(); ++i) append_frame(out, *shown[i], system);
    } else {
      for (const auto* f : shown) append_frame(out, *f, system);
    }
  } else {
    // gentraceback with max = _TracebackMaxFrames: 100 physical frames (shown or not).
    constexpr size_t kMax = 100;
    for (size_t i = 0; i < shown.size(); ++i)
      if (physical_index[i] < kMax) append_frame(out, *shown[i], system);
    if (phys >= kMax) out += "...additional frames elided...\n";
  }
  if (!g.creator.empty() && (g.creator_shown || system)) {
    out += "created by " + g.creator;
    if (minor >= 21 && g.parent_goid != 0) out += " in goroutine " + std::to_string(g.parent_goid);
    out += "\n\t" + g.creator_file + ":" + std::to_string(g.creator_line);
    if (g.creator_offset != 0) {
      out += " +";
      append_hex(out, g.creator_offset);
    }
    out += "\n";
  }
}

}  // namespace

std::string format_goroutine_dump_text(const GoroutineDumpResult& dump, TracebackLevel level) {
  const bool system = level == TracebackLevel::kSystem;
  std::string out;
  out.reserve(dump.goroutines.size() * 256);
  bool first = true;
  for (const auto& g : dump.goroutines) {
    if (g.system && !system) continue;  // tracebackothers skips them below GOTRACEBACK=system
    if (!first) out += "\n";
    first = false;
    append_goroutine(out, g, dump.go_minor, system);
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
    append_goroutine(buf, g, dump.go_minor, system);
    if (buf.size() > (1u << 16)) {
      if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) return false;
      buf.clear();
    }
  }
  return std::fwrite(buf.data(), 1, buf.size(), out) == buf.size() && std::fflush(out) == 0;
}

}  // namespace goperf::profiler

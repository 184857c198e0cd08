// The goroutine dump as JSON: every goroutine (system ones flagged) and every frame (hidden ones flagged).
#include <charconv>
#include <cstdio>

#include "profiler/goroutine_dump.h"
#include "profiler/json_string.h"

namespace goperf::profiler {

namespace {

void append_hex(std::string& out, uint64_t v) {
  char buf[24] = "\"0x";
  auto r = std::to_chars(buf + 3, buf + sizeof buf - 1, v, 16);
  *r.ptr = '"';
  out.append(buf, r.ptr + 1);
}

}  // namespace

std::string format_goroutine_dump_json(const GoroutineDumpResult& dump) {
  std::string out;
  out.reserve(dump.goroutines.size() * 512);
  out += "{\"go_version\":";
  append_json_string(out, dump.go_version);
  out += ",\"threads\":" + std::to_string(dump.threads) + ",\"goroutines\":[";
  bool first = true;
  for (const auto& g : dump.goroutines) {
    if (!first) out += ",";
    first = false;
    out += "\n{\"id\":" + std::to_string(g.goid) + ",\"g\":";
    append_hex(out, g.g_addr);
    out += ",\"status\":";
    append_json_string(out, g.status_text);
    out += ",\"status_code\":" + std::to_string(g.status) + ",\"wait_minutes\":" + std::to_string(g.wait_minutes);
    out += ",\"locked_to_thread\":";
    out += g.locked_to_thread ? "true" : "false";
    out += ",\"system\":";
    out += g.system ? "true" : "false";
    out += ",\"thread\":" + std::to_string(g.thread_id) + ",\"m\":" + std::to_string(g.m_id) + ",\"stop_reason\":";
    append_json_string(out, unwind::to_string(g.stop_reason));
    out += ",\"frames\":[";
    for (size_t i = 0; i < g.frames.size(); ++i) {
      const auto& f = g.frames[i];
      if (i) out += ",";
      out += "{\"function\":";
      append_json_string(out, f.function);
      out += ",\"file\":";
      append_json_string(out, f.file);
      out += ",\"line\":" + std::to_string(f.line) + ",\"pc\":";
      append_hex(out, f.pc);
      out += ",\"entry\":";
      append_hex(out, f.entry);
      out += ",\"sp\":";
      append_hex(out, f.sp);
      out += ",\"fp\":";
      append_hex(out, f.fp);
      out += ",\"inlined\":";
      out += f.inlined ? "true" : "false";
      out += ",\"go\":";
      out += f.is_go ? "true" : "false";
      out += ",\"shown\":";
      out += f.shown ? "true" : "false";
      out += ",\"args\":";
      append_json_string(out, f.args);
      out += "}";
    }
    out += "]";
    if (!g.creator.empty()) {
      out += ",\"created_by\":{\"function\":";
      append_json_string(out, g.creator);
      out += ",\"file\":";
      append_json_string(out, g.creator_file);
      out += ",\"line\":" + std::to_string(g.creator_line) + ",\"offset\":";
      append_hex(out, g.creator_offset);
      out += ",\"parent_goid\":" + std::to_string(g.parent_goid) + ",\"shown\":";
      out += g.creator_shown ? "true" : "false";
      out += "}";
    }
    out += "}";
  }
  out += "\n]}\n";
  return out;
}

}  // namespace goperf::profiler

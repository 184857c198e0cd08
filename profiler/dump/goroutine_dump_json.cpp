// The goroutine dump as JSON: every goroutine (system ones flagged) and every frame (hidden ones flagged).
#include <charconv>
#include <cstdio>

#include "profiler/dump/goroutine_dump.h"
#include "profiler/json_string.h"

namespace goperf::profiler {

namespace {

void append_hex(std::string& out, uint64_t v) {
  char buf[24] = "\"0x";
  auto r = std::to_chars(buf + 3, buf + sizeof buf - 1, v, 16);
  *r.ptr = '"';
  out.append(buf, r.ptr + 1);
}

void append_bool(std::string& out, bool v) { out += v ? "true" : "false"; }

// One frame object of "frames".
void append_frame_json(std::string& out, const DumpFrame& f) {
  out += "{\"function\":";
  append_json_string(out, f.function);
  out += ",\"file\":";
  append_json_string(out, f.file);
  out += ",\"line\":";
  append_decimal(out, f.line);
  out += ",\"pc\":";
  append_hex(out, f.pc);
  out += ",\"entry\":";
  append_hex(out, f.entry);
  out += ",\"sp\":";
  append_hex(out, f.sp);
  out += ",\"fp\":";
  append_hex(out, f.fp);
  out += ",\"inlined\":";
  append_bool(out, f.inlined);
  out += ",\"go\":";
  append_bool(out, f.is_go);
  out += ",\"shown\":";
  append_bool(out, f.shown);
  out += ",\"args\":";
  append_json_string(out, f.args);
  out += '}';
}

// "created_by": the go statement that started the goroutine (printcreatedby1).
void append_created_by_json(std::string& out, const GoroutineDump& g) {
  if (g.creator.empty()) return;
  append_created_by_open(out, g.creator, g.creator_file, g.creator_line);
  out += ",\"offset\":";
  append_hex(out, g.creator_offset);
  out += ",\"parent_goid\":";
  append_decimal(out, g.parent_goid);
  out += ",\"shown\":";
  append_bool(out, g.creator_shown);
  out += '}';
}

}  // namespace

void append_goroutine_dump_json_head(std::string& out, std::string_view go_version, size_t threads,
                                     std::string_view fields) {
  out += "{\"go_version\":";
  append_json_string(out, go_version);
  out += ",\"threads\":";
  append_decimal(out, threads);
  out += ',';
  out += fields;
  out += "\"goroutines\":[";
}

void append_goroutine_dump_json(std::string& out, const GoroutineDump& g, bool first, std::string_view fields) {
  if (!first) out += ',';
  out += "\n{";
  out += fields;
  out += "\"id\":";
  append_decimal(out, g.goid);
  out += ",\"g\":";
  append_hex(out, g.g_addr);
  out += ",\"status\":";
  append_json_string(out, g.status_text);
  out += ",\"status_code\":";
  append_decimal(out, g.status);
  out += ",\"wait_minutes\":";
  append_decimal(out, g.wait_minutes);
  out += ",\"locked_to_thread\":";
  append_bool(out, g.locked_to_thread);
  out += ",\"system\":";
  append_bool(out, g.system);
  out += ",\"thread\":";
  append_decimal(out, g.thread_id);
  out += ",\"m\":";
  append_decimal(out, g.m_id);
  out += ",\"stop_reason\":";
  append_json_string(out, unwind::to_string(g.stop_reason));
  out += ",\"frames\":[";
  for (size_t i = 0; i < g.frames.size(); ++i) {
    if (i) out += ',';
    append_frame_json(out, g.frames[i]);
  }
  out += ']';
  append_created_by_json(out, g);
  out += '}';
}

void append_goroutine_dump_json_tail(std::string& out) { out += "\n]}\n"; }

}  // namespace goperf::profiler

// JSON string literals, one escaping rule for every JSON output of goperf.
#include "profiler/json_string.h"

#include <charconv>
#include <cstdio>

namespace goperf::profiler {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string hex_string(uint64_t v) {
  char buf[24] = "0x";
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
  return std::string(buf, r.ptr);
}

void append_created_by_open(std::string& out, std::string_view function, std::string_view file, int line) {
  out += ",\"created_by\":{\"function\":";
  append_json_string(out, function);
  out += ",\"file\":";
  append_json_string(out, file);
  out += ",\"line\":";
  append_decimal(out, line);
}

}  // namespace goperf::profiler

// JSON string literals for goperf's --json / --format json outputs (addr2line, info, snapshot, core), and
// integers as goperf prints them in text and JSON alike.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace goperf::profiler {

// Appends s as a quoted JSON string: quotes and backslashes escaped, control characters as \uXXXX.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);
// An address or offset as goperf prints it in text and JSON alike: "0x" and lowercase hex digits.
std::string hex_string(uint64_t v);

// Appends an integer in decimal (a JSON number; the same digits in text output).
template <typename T>
void append_decimal(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Opens a goroutine's "created_by" object (the go statement that started it, printcreatedby1) with its
// function, file and line, for the snapshot's dump and its groups alike; the caller adds fields and '}'.
void append_created_by_open(std::string& out, std::string_view function, std::string_view file, int line);

}  // namespace goperf::profiler

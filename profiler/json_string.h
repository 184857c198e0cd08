// JSON string literals for goperf's --json / --format json outputs (addr2line, info, snapshot, core).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace goperf::profiler {

// Appends s as a quoted JSON string: quotes and backslashes escaped, control characters as \uXXXX.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);
// An address or offset as goperf prints it in text and JSON alike: "0x" and lowercase hex digits.
std::string hex_string(uint64_t v);

}  // namespace goperf::profiler

// JsonReader: a pull reader over a JSON text in memory, for reading back goperf's own JSON outputs
// (snapshot --diff OLD.json). No document tree: the caller walks objects and arrays and skips what it
// does not need, so that a dump of 100,000 goroutines is read without one allocation per value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace goperf::profiler {

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : s_(text) {}

  // Objects: begin_object(), then `while (next_key(k)) { read or skip the value }`. Arrays likewise with
  // next_element(). Every call returns false on malformed input too; failed() tells the two apart.
  bool begin_object();
  // The key is a view into the text (into the reader when it holds escapes) valid until the next call.
  bool next_key(std::string_view& key);
  bool begin_array();
  bool next_element();
  bool read_string(std::string& out);
  // The string as a view into the text when it has no escapes, else unescaped into `scratch` (the view is
  // then into scratch): valid while the text and scratch are.
  bool read_string_view(std::string_view& out, std::string& scratch);
  bool read_int(int64_t& v);
  bool read_bool(bool& v);
  bool read_double(double& v);
  bool skip();  // any one value
  bool at_end();  // only white space is left

  bool failed() const { return failed_; }
  // What was wrong and at which byte, once failed().
  std::string error() const;

 private:
  void ws();
  bool expect(char c);
  bool skip_string();
  bool skip_number();
  bool fail(const char* what);
  std::string_view s_;
  size_t i_ = 0;
  bool failed_ = false;
  const char* what_ = "";
  std::string key_scratch_;
};

}  // namespace goperf::profiler

// A JSON pull reader (RFC 8259): strings with every escape, numbers through from_chars.
#include "profiler/dump/json_reader.h"

#include <charconv>
#include <cstring>

namespace goperf::profiler {

namespace {

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

}  // namespace

void JsonReader::ws() {
  while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
}

bool JsonReader::fail(const char* what) {
  if (!failed_) {
    failed_ = true;
    what_ = what;
  }
  return false;
}

bool JsonReader::expect(char c) {
  ws();
  if (failed_ || i_ >= s_.size() || s_[i_] != c) return fail(c == '{' ? "expected an object" : c == '[' ? "expected an array" : c == ':' ? "expected ':'" : "expected a string");
  ++i_;
  return true;
}

std::string JsonReader::error() const { return std::string(what_) + " at byte " + std::to_string(i_); }

bool JsonReader::begin_object() { return expect('{'); }
bool JsonReader::begin_array() { return expect('['); }

bool JsonReader::next_element() {
  ws();
  if (failed_ || i_ >= s_.size()) return fail("unexpected end");
  if (s_[i_] == ']') {
    ++i_;
    return false;
  }
  if (s_[i_] == ',') ++i_;
  return true;
}

bool JsonReader::next_key(std::string_view& key) {
  ws();
  if (failed_ || i_ >= s_.size()) return fail("unexpected end");
  if (s_[i_] == '}') {
    ++i_;
    return false;
  }
  if (s_[i_] == ',') ++i_;
  return read_string_view(key, key_scratch_) && expect(':');
}

bool JsonReader::read_string(std::string& out) {
  if (!expect('"')) return false;
  out.clear();
  while (i_ < s_.size()) {
    size_t run = i_;
    while (run < s_.size() && s_[run] != '"' && s_[run] != '\\') ++run;
    out.append(s_.data() + i_, run - i_);
    i_ = run;
    if (i_ >= s_.size()) break;
    if (s_[i_++] == '"') return true;
    if (i_ >= s_.size()) break;
    char e = s_[i_++];
    switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t c = 0;
        if (i_ + 4 > s_.size() || std::from_chars(s_.data() + i_, s_.data() + i_ + 4, c, 16).ptr != s_.data() + i_ + 4)
          return fail("bad \\u escape");
        i_ += 4;
        // A surrogate pair is one character.
        if (c >= 0xd800 && c < 0xdc00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
          uint32_t lo = 0;
          if (std::from_chars(s_.data() + i_ + 2, s_.data() + i_ + 6, lo, 16).ptr == s_.data() + i_ + 6 &&
              lo >= 0xdc00 && lo < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            i_ += 6;
          }
        }
        append_utf8(out, c);
        break;
      }
      default: return fail("bad escape");
    }
  }
  return fail("unterminated string");
}

bool JsonReader::read_string_view(std::string_view& out, std::string& scratch) {
  if (!expect('"')) return false;
  const char* begin = s_.data() + i_;
  const void* quote = std::memchr(begin, '"', s_.size() - i_);
  if (quote != nullptr) {
    const size_t n = static_cast<size_t>(static_cast<const char*>(quote) - begin);
    if (std::memchr(begin, '\\', n) == nullptr) {
      out = std::string_view(begin, n);
      i_ += n + 1;
      return true;
    }
  }
  --i_;  // back to the opening quote: the escapes take the slow way
  if (!read_string(scratch)) return false;
  out = scratch;
  return true;
}

// Skipping what a caller does not read costs no copy: the end of a string, the end of a number.
bool JsonReader::skip_string() {
  size_t from = i_ + 1;
  while (from < s_.size()) {
    const void* q = std::memchr(s_.data() + from, '"', s_.size() - from);
    if (q == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(q) - s_.data());
    size_t backslashes = 0;
    while (at - backslashes > i_ + 1 && s_[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) {
      i_ = at + 1;
      return true;
    }
    from = at + 1;
  }
  return fail("unterminated string");
}

bool JsonReader::skip_number() {
  const size_t start = i_;
  while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '-' || s_[i_] == '+' || s_[i_] == '.' ||
                            s_[i_] == 'e' || s_[i_] == 'E'))
    ++i_;
  return i_ > start ? true : fail("bad value");
}

bool JsonReader::read_int(int64_t& v) {
  ws();
  if (failed_) return false;
  auto r = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
  if (r.ec != std::errc()) return fail("expected an integer");
  i_ = static_cast<size_t>(r.ptr - s_.data());
  return true;
}

bool JsonReader::read_double(double& v) {
  ws();
  if (failed_) return false;
  auto r = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
  if (r.ec != std::errc()) return fail("expected a number");
  i_ = static_cast<size_t>(r.ptr - s_.data());
  return true;
}

bool JsonReader::read_bool(bool& v) {
  ws();
  if (s_.substr(i_, 4) == "true") {
    v = true;
    i_ += 4;
    return true;
  }
  if (s_.substr(i_, 5) == "false") {
    v = false;
    i_ += 5;
    return true;
  }
  return fail("expected true or false");
}

bool JsonReader::skip() {
  ws();
  if (failed_ || i_ >= s_.size()) return fail("unexpected end");
  switch (s_[i_]) {
    case '"': return skip_string();
    case '{': {
      ++i_;
      std::string_view key;
      while (next_key(key))
        if (!skip()) return false;
      return !failed_;
    }
    case '[':
      ++i_;
      while (next_element())
        if (!skip()) return false;
      return !failed_;
    case 't': case 'f': {
      bool b;
      return read_bool(b);
    }
    case 'n':
      if (s_.substr(i_, 4) != "null") return fail("bad value");
      i_ += 4;
      return true;
    default: return skip_number();
  }
}

bool JsonReader::at_end() {
  ws();
  return i_ == s_.size();
}

}  // namespace goperf::profiler

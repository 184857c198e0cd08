// Folded-stack line syntax shared by FoldedReader and CallTree::from_folded: "root;...;leaf COUNT".
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "symbolize/result.h"

namespace goperf::flamegraph::folded {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits "stack count" at the last run of blanks. Counts are integers; flamegraph.pl also accepts a
// decimal fraction, which is rounded.
inline bool split_line(std::string_view line, std::string_view* stack, int64_t* count) {
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  size_t sp = line.size();
  while (sp > 0 && !is_space(line[sp - 1])) --sp;
  if (sp == 0 || sp == line.size()) return false;
  std::string_view num = line.substr(sp);
  size_t end = sp - 1;
  while (end > 0 && is_space(line[end - 1])) --end;
  *stack = line.substr(0, end);
  int64_t v = 0;
  size_t i = 0;
  for (; i < num.size() && num[i] >= '0' && num[i] <= '9'; ++i) {
    if (v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (num[i] - '0');
  }
  if (i == 0) return false;
  if (i < num.size()) {
    if (num[i] != '.') return false;
    for (size_t j = i + 1; j < num.size(); ++j) {
      if (num[j] < '0' || num[j] > '9') return false;
    }
    v = std::llround(std::strtod(std::string(num).c_str(), nullptr));
  }
  *count = v;
  return true;
}


// Calls line_fn(frames, count, common) for every non-blank line of folded text, in order, where common is
// the length of the prefix frames shares with the previous line's: collapsed files are sorted, so a line
// usually repeats most of the one before and readers keep those frames. Returns the number of stack
// lines, or a format error naming the first malformed line.
template <typename LineFn>
Result<size_t> for_each_line(std::string_view text, LineFn&& line_fn) {
  std::string_view prev;
  size_t pos = 0, lineno = 0, lines = 0;
  while (pos < text.size()) {
    ++lineno;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (std::all_of(line.begin(), line.end(), [](char c) { return is_space(c); })) continue;
    std::string_view frames;
    int64_t count = 0;
    if (!split_line(line, &frames, &count)) {
      return make_error(ErrorCode::kFormat, "line " + std::to_string(lineno) +
                                                ": expected folded stack 'root;...;leaf COUNT'");
    }
    ++lines;
    const size_t common = static_cast<size_t>(
        std::mismatch(frames.begin(), frames.begin() + std::min(frames.size(), prev.size()), prev.begin()).first -
        frames.begin());
    line_fn(frames, count, common);
    prev = frames;
  }
  return lines;
}

// Frame name -> location id, keyed by views into the input text: open addressing with the hash stored, so
// a lookup touches one slot and compares bytes only on a hash match.
class FrameInterner {
 public:
  FrameInterner() : slots_(4096) {}
  template <typename Add>
  uint32_t find_or_add(std::string_view name, Add&& add) {
    const uint64_t h = hash(name);
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].id != kEmpty) {
      if (slots_[i].hash == h && slots_[i].name == name) return slots_[i].id;
      i = (i + 1) & mask;
    }
    const uint32_t id = add(name);
    slots_[i] = {h, name, id};
    if (++used_ * 2 > slots_.size()) grow();
    return id;
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    uint64_t hash = 0;
    std::string_view name;
    uint32_t id = kEmpty;
  };
  // FNV-1a over 8-byte words: frame names are short, and this runs once per frame of the input.
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0x100000001b3ULL;
      h ^= h >> 29;
    }
    for (; i < s.size(); ++i) h = (h ^ static_cast<uint8_t>(s[i])) * 0x100000001b3ULL;
    return h ^ (h >> 32);
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id == kEmpty) continue;
      size_t i = s.hash & mask;
      while (slots_[i].id != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  size_t used_ = 0;
};


// "f_[i]": stackcollapse-perf.pl's mark for f inlined into the frame before it.
inline bool is_inlined_mark(std::string_view name) { return name.size() > 4 && name.substr(name.size() - 4) == "_[i]"; }

}  // namespace goperf::flamegraph::folded

// FoldedReader: a single pass over the text; frames are interned by name through ProfileBuilder.
#include "flamegraph/folded_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "flamegraph/file_io.h"
#include "flamegraph/profile_builder.h"

namespace goperf::flamegraph {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits "stack count" at the last run of blanks. Counts are integers; flamegraph.pl also accepts a
// decimal fraction, which is rounded.
bool split_line(std::string_view line, std::string_view* stack, int64_t* count) {
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

}  // namespace

bool looks_folded(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (std::all_of(line.begin(), line.end(), [](char c) { return is_space(c); })) continue;
    std::string_view stack;
    int64_t count = 0;
    return split_line(line, &stack, &count) && !stack.empty() &&
           std::none_of(stack.begin(), stack.end(), [](char c) {
             return static_cast<unsigned char>(c) < 0x20 && c != '\t';
           });
  }
  return false;
}

Result<Profile> parse_folded(std::string_view text) {
  if (text.empty()) return make_error(ErrorCode::kFormat, "empty file");
  ProfileBuilder b({{"samples", "count"}}, {"samples", "count"}, 1);
  std::vector<uint32_t> stack;
  std::vector<std::string_view> group;  // a physical frame and the frames inlined into it, root first
  std::vector<Line> inl;
  auto flush = [&] {
    if (group.size() == 1) {
      stack.push_back(b.add_named_location(group[0]));
    } else if (group.size() > 1) {
      inl.clear();
      for (size_t i = group.size(); i-- > 0;) inl.push_back(Line{b.add_function(group[i]), 0});
      stack.push_back(b.add_location(0, -1, inl));
    }
    group.clear();
  };
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
    stack.clear();
    group.clear();
    size_t start = 0;
    for (;;) {
      size_t semi = frames.find(';', start);
      std::string_view name = frames.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start);
      // "f_[i]" (stackcollapse-perf.pl --inline) is f inlined into the frame before it: one location.
      if (name.size() > 4 && name.substr(name.size() - 4) == "_[i]" && !group.empty()) {
        group.push_back(name.substr(0, name.size() - 4));
      } else {
        flush();
        group.push_back(name);
      }
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    flush();
    std::reverse(stack.begin(), stack.end());  // the model is leaf first
    b.add_count(stack, count);
  }
  if (lines == 0) return make_error(ErrorCode::kFormat, "no stacks in the input");
  return b.take();
}

Result<Profile> read_folded_file(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) return std::move(text).error();
  auto p = parse_folded(*text);
  if (!p) return std::move(p).error().with_context(path);
  return p;
}

}  // namespace goperf::flamegraph

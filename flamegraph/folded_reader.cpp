// FoldedReader: a single pass over the text; frames are interned by name through ProfileBuilder.
#include "flamegraph/folded_reader.h"

#include <algorithm>
#include <span>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "flamegraph/file_io.h"
#include "flamegraph/folded_format.h"
#include "flamegraph/profile_builder.h"

namespace goperf::flamegraph {
using folded::FrameInterner;
using folded::is_space;
using folded::split_line;
using folded::for_each_line;
using folded::is_inlined_mark;
namespace {

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
  b.profile().samples.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  // Root-first location ids of the current line, and for each: where its frames end in the line and where
  // the frame after it ends (a location can be reused only if the next frame is complete in the shared
  // prefix, since an "_[i]" frame after it would join it).
  std::vector<uint32_t> stack, leaf_first;
  std::vector<size_t> group_end, next_end;
  std::vector<std::string_view> group;  // a physical frame and the frames inlined into it, root first
  std::vector<Line> inl;
  FrameInterner interner;
  auto flush = [&] {
    if (group.size() == 1) {
      stack.push_back(interner.find_or_add(group[0], [&](std::string_view n) { return b.add_named_location(n); }));
    } else if (group.size() > 1) {
      inl.clear();
      for (size_t i = group.size(); i-- > 0;) inl.push_back(Line{b.add_function(group[i]), 0});
      stack.push_back(b.add_location(0, -1, inl));
    }
    group.clear();
  };
  auto lines = for_each_line(text, [&](std::string_view frames, int64_t count, size_t common) {
    size_t keep = 0;
    while (keep < stack.size() && next_end[keep] < common) ++keep;
    stack.resize(keep);
    group_end.resize(keep);
    next_end.resize(keep);
    size_t start = keep ? group_end[keep - 1] + 1 : 0;
    size_t last_end = start;
    group.clear();
    for (;;) {
      const size_t semi = frames.find(';', start);
      const size_t end = semi == std::string_view::npos ? frames.size() : semi;
      std::string_view name = frames.substr(start, end - start);
      // "f_[i]" (stackcollapse-perf.pl --inline) is f inlined into the frame before it: one location.
      if (!group.empty() && is_inlined_mark(name)) {
        group.push_back(name.substr(0, name.size() - 4));
      } else {
        if (!group.empty()) {
          flush();
          group_end.push_back(last_end);
          next_end.push_back(end);
        }
        group.push_back(name);
      }
      last_end = end;
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    flush();
    group_end.push_back(last_end);
    next_end.push_back(SIZE_MAX);  // the last location is never reused: the next line may extend it
    leaf_first.assign(stack.rbegin(), stack.rend());  // the model is leaf first
    // Repeated stacks stay separate samples (summed by every consumer): hashing 200,000 stacks to merge
    // the rare repeat would cost more than the rest of the parse.
    b.append_sample(leaf_first, std::span<const int64_t>(&count, 1));
  });
  if (!lines) return std::move(lines).error();
  if (*lines == 0) return make_error(ErrorCode::kFormat, "no stacks in the input");
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

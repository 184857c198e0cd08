// ProfileFilter: each regex runs once per function (not per frame), then samples are checked by index.
#include "flamegraph/profile_filter.h"

#include <cstdint>
#include <optional>
#include <regex>

namespace goperf::flamegraph {
namespace {

Result<std::regex> compile(const std::string& what, const std::string& re) {
  try {
    return std::regex(re, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    // std::regex reports bad patterns only by throwing; this is the one place that catches.
    return make_error(ErrorCode::kInvalidArgument, what + " '" + re + "' is not a valid regular expression");
  }
}

// For each location: does any of its lines' functions match?
std::vector<bool> match_locations(const Profile& p, const std::regex& re) {
  std::vector<char> fmatch(p.functions.size());
  for (size_t i = 0; i < p.functions.size(); ++i) fmatch[i] = std::regex_search(p.functions[i].name, re);
  std::vector<bool> out(p.locations.size(), false);
  for (size_t i = 0; i < p.locations.size(); ++i) {
    for (const Line& l : p.locations[i].lines) {
      if (l.function < fmatch.size() && fmatch[l.function]) out[i] = true;
    }
  }
  return out;
}

// One --tagfocus/--tagignore KEY=VALUE. As pprof (internal/driver/driver_focus.go, compileTagFilter):
// a VALUE that is a number or a range ("3", "3:5", "3:", ":5") matches numeric labels by value, exactly,
// so goroutine=3 is not goroutine 33168; any other VALUE is a regular expression on string labels. Unlike
// pprof, a single number also matches a string label equal to it (pprof.Do(ctx, pprof.Labels("worker",
// "3")) is a string label, and worker=3 meaning nothing for it would surprise).
struct TagFilter {
  std::string key;
  std::regex re;
  bool numeric = false;
  int64_t lo = INT64_MIN, hi = INT64_MAX;
};

std::optional<int64_t> parse_int(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
  if (i == text.size() || text.size() > 19) return std::nullopt;
  for (size_t j = i; j < text.size(); ++j) {
    if (text[j] < '0' || text[j] > '9') return std::nullopt;
  }
  return std::stoll(text);
}

// "3" -> [3, 3]; "3:5" -> [3, 5]; "3:" -> [3, max]; ":5" -> [min, 5]; anything else: not numeric.
bool parse_range(const std::string& value, TagFilter& f) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos) {
    auto v = parse_int(value);
    if (!v) return false;
    f.lo = f.hi = *v;
    return true;
  }
  const std::string a = value.substr(0, colon), b = value.substr(colon + 1);
  if (a.empty() && b.empty()) return false;
  auto lo = a.empty() ? std::optional<int64_t>(INT64_MIN) : parse_int(a);
  auto hi = b.empty() ? std::optional<int64_t>(INT64_MAX) : parse_int(b);
  if (!lo || !hi) return false;
  f.lo = *lo;
  f.hi = *hi;
  return true;
}

Result<std::vector<TagFilter>> compile_tags(const std::string& option,
                                            const std::vector<std::pair<std::string, std::string>>& in) {
  std::vector<TagFilter> out;
  for (const auto& [key, pattern] : in) {
    TagFilter f;
    f.key = key;
    f.numeric = parse_range(pattern, f);
    if (!f.numeric) {
      auto re = compile(option + " " + key, pattern);
      if (!re) return std::move(re).error();
      f.re = std::move(re).value();
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool tag_matches(const Sample& s, const TagFilter& f) {
  for (const Label& l : s.labels) {
    if (l.key != f.key) continue;
    const bool is_number = l.str.empty();
    if (!f.numeric) {
      if (!is_number && std::regex_search(l.str, f.re)) return true;
    } else if (is_number ? l.num >= f.lo && l.num <= f.hi : f.lo == f.hi && l.str == std::to_string(f.lo)) {
      return true;
    }
  }
  return false;
}

bool any_location(const Sample& s, const std::vector<bool>& m) {
  for (uint32_t l : s.locations) {
    if (l < m.size() && m[l]) return true;
  }
  return false;
}

}  // namespace

Result<Profile> filter_profile(Profile p, const FilterOptions& o) {
  if (o.empty()) return p;
  std::vector<bool> focus, ignore;
  if (!o.focus.empty()) {
    auto re = compile("--focus", o.focus);
    if (!re) return std::move(re).error();
    focus = match_locations(p, *re);
  }
  if (!o.ignore.empty()) {
    auto re = compile("--ignore", o.ignore);
    if (!re) return std::move(re).error();
    ignore = match_locations(p, *re);
  }
  auto tags = compile_tags("--tagfocus", o.tagfocus);
  if (!tags) return std::move(tags).error();
  auto untags = compile_tags("--tagignore", o.tagignore);
  if (!untags) return std::move(untags).error();
  std::vector<Sample> kept;
  kept.reserve(p.samples.size());
  for (Sample& s : p.samples) {
    if (!o.focus.empty() && !any_location(s, focus)) continue;
    if (!o.ignore.empty() && any_location(s, ignore)) continue;
    bool tags_ok = true;
    for (const TagFilter& f : *tags) tags_ok = tags_ok && tag_matches(s, f);
    for (const TagFilter& f : *untags) tags_ok = tags_ok && !tag_matches(s, f);
    if (!tags_ok) continue;
    kept.push_back(std::move(s));
  }
  p.samples = std::move(kept);
  return p;
}

}  // namespace goperf::flamegraph

// ProfileFilter: each regex runs once per function (not per frame), then samples are checked by index.
#include "flamegraph/profile_filter.h"

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

using TagRegexes = std::vector<std::pair<std::string, std::regex>>;

Result<TagRegexes> compile_tags(const std::string& option, const std::vector<std::pair<std::string, std::string>>& in) {
  TagRegexes out;
  for (const auto& [key, pattern] : in) {
    auto re = compile(option + " " + key, pattern);
    if (!re) return std::move(re).error();
    out.emplace_back(key, std::move(re).value());
  }
  return out;
}

// Does the sample's label `key` match `re` (numeric labels as decimal text)?
bool tag_matches(const Sample& s, const std::string& key, const std::regex& re) {
  for (const Label& l : s.labels) {
    if (l.key == key && std::regex_search(l.str.empty() ? std::to_string(l.num) : l.str, re)) return true;
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
    for (const auto& [key, re] : *tags) tags_ok = tags_ok && tag_matches(s, key, re);
    for (const auto& [key, re] : *untags) tags_ok = tags_ok && !tag_matches(s, key, re);
    if (!tags_ok) continue;
    kept.push_back(std::move(s));
  }
  p.samples = std::move(kept);
  return p;
}

}  // namespace goperf::flamegraph

// Every source's functions, mappings and locations are re-interned in one ProfileBuilder (which keys them
// by value, as profile.Merge's profileMerger keys them), and samples are added through it.
#include "flamegraph/profile_merge.h"

#include <algorithm>

#include "flamegraph/profile_builder.h"

namespace goperf::flamegraph {
namespace {

std::string describe_types(const Profile& p) {
  std::string out;
  for (const ValueType& t : p.sample_types) out += (out.empty() ? "" : ", ") + t.type + "/" + t.unit;
  return out.empty() ? "none" : out;
}

bool same_types(const Profile& a, const Profile& b) {
  if (a.sample_types.size() != b.sample_types.size()) return false;
  for (size_t i = 0; i < a.sample_types.size(); ++i) {
    if (a.sample_types[i].type != b.sample_types[i].type || a.sample_types[i].unit != b.sample_types[i].unit) {
      return false;
    }
  }
  return a.period_type.type == b.period_type.type && a.period_type.unit == b.period_type.unit;
}

// Adds every sample of `src` to `out`, translating its indexes.
void add_profile(ProfileBuilder& out, const Profile& src) {
  std::vector<uint32_t> functions(src.functions.size());
  for (size_t i = 0; i < src.functions.size(); ++i) {
    const Function& f = src.functions[i];
    functions[i] = out.add_function(f.name, f.system_name, f.filename, f.start_line);
  }
  std::vector<int32_t> mappings(src.mappings.size());
  for (size_t i = 0; i < src.mappings.size(); ++i) mappings[i] = out.add_mapping(src.mappings[i]);
  std::vector<uint32_t> locations(src.locations.size());
  std::vector<Line> lines;
  for (size_t i = 0; i < src.locations.size(); ++i) {
    const Location& l = src.locations[i];
    lines.clear();
    for (const Line& line : l.lines) lines.push_back(Line{functions[line.function], line.line});
    const int32_t mapping = l.mapping >= 0 ? mappings[l.mapping] : -1;
    locations[i] = out.add_location(l.address, mapping, lines);
  }
  std::vector<uint32_t> stack;
  for (const Sample& s : src.samples) {
    // profile.Merge drops samples whose values are all zero.
    if (std::all_of(s.values.begin(), s.values.end(), [](int64_t v) { return v == 0; })) continue;
    stack.clear();
    for (uint32_t l : s.locations) stack.push_back(locations[l]);
    out.add_sample(stack, s.values, s.labels);
  }
}

}  // namespace

Result<Profile> merge_profiles(std::vector<Profile> profiles, const std::vector<std::string>& names) {
  if (profiles.size() == 1) return std::move(profiles[0]);
  const Profile& first = profiles.at(0);
  for (size_t i = 1; i < profiles.size(); ++i) {
    if (!same_types(first, profiles[i])) {
      return make_error(ErrorCode::kInvalidArgument, "cannot merge " + names.at(i) + " (" + describe_types(profiles[i]) +
                                                         ") with " + names.at(0) + " (" + describe_types(first) + ")");
    }
  }
  ProfileBuilder builder(first.sample_types, first.period_type, first.period);
  Profile& out = builder.profile();
  out.default_sample_type = first.default_sample_type;
  for (const Profile& p : profiles) {
    if (p.time_nanos != 0 && (out.time_nanos == 0 || p.time_nanos < out.time_nanos)) out.time_nanos = p.time_nanos;
    out.duration_nanos += p.duration_nanos;
    out.period = std::max(out.period, p.period);
    for (const std::string& c : p.comments) {
      if (std::find(out.comments.begin(), out.comments.end(), c) == out.comments.end()) out.comments.push_back(c);
    }
    add_profile(builder, p);
  }
  return builder.take();
}

}  // namespace goperf::flamegraph

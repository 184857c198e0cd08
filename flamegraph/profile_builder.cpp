// ProfileBuilder: interning tables and the sample hash that merges identical stacks.
#include "flamegraph/profile_builder.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "symbolize/frame.h"

namespace goperf::flamegraph {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIndex = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

bool label_less(const Label& a, const Label& b) {
  if (a.key != b.key) return a.key < b.key;
  if (a.str != b.str) return a.str < b.str;
  if (a.num != b.num) return a.num < b.num;
  return a.num_unit < b.num_unit;
}

bool label_equal(const Label& a, const Label& b) {
  return a.key == b.key && a.str == b.str && a.num == b.num && a.num_unit == b.num_unit;
}

void append_field(std::string& key, std::string_view s) {
  key.append(s);
  key.push_back('\0');
}

void append_u64(std::string& key, uint64_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); }

// Samples are identified by their index into Profile::samples; hashing reads the vector.
struct SampleHash {
  const std::vector<Sample>* samples;
  size_t operator()(uint32_t i) const {
    const Sample& s = (*samples)[i];
    uint64_t h = s.locations.size();
    for (uint32_t l : s.locations) h = mix(h, l);
    for (const Label& l : s.labels) {
      h = mix(h, std::hash<std::string>{}(l.key));
      h = mix(h, std::hash<std::string>{}(l.str));
      h = mix(h, static_cast<uint64_t>(l.num));
    }
    return h;
  }
};

struct SampleEqual {
  const std::vector<Sample>* samples;
  bool operator()(uint32_t a, uint32_t b) const {
    const Sample& x = (*samples)[a];
    const Sample& y = (*samples)[b];
    return x.locations == y.locations &&
           std::equal(x.labels.begin(), x.labels.end(), y.labels.begin(), y.labels.end(), label_equal);
  }
};

}  // namespace

struct ProfileBuilder::Index {
  explicit Index(const std::vector<Sample>* target)
      : samples(16, SampleHash{target}, SampleEqual{target}) {}
  StringIndex functions;
  StringIndex mappings;
  StringIndex locations;
  StringIndex named_locations;
  std::unordered_set<uint32_t, SampleHash, SampleEqual> samples;
  std::string scratch;
};

ProfileBuilder::ProfileBuilder(std::vector<ValueType> sample_types, ValueType period_type, int64_t period) {
  profile_.sample_types = std::move(sample_types);
  profile_.period_type = std::move(period_type);
  profile_.period = period;
  index_ = std::make_unique<Index>(&profile_.samples);
}

ProfileBuilder::~ProfileBuilder() = default;
uint32_t ProfileBuilder::add_function(std::string_view name, std::string_view system_name,
                                      std::string_view filename, int64_t start_line) {
  std::string& key = index_->scratch;
  key.clear();
  append_field(key, name);
  append_field(key, system_name);
  append_field(key, filename);
  append_u64(key, static_cast<uint64_t>(start_line));
  auto it = index_->functions.find(std::string_view(key));
  if (it != index_->functions.end()) return it->second;
  auto id = static_cast<uint32_t>(profile_.functions.size());
  profile_.functions.push_back(Function{std::string(name), std::string(system_name.empty() ? name : system_name),
                                        std::string(filename), start_line});
  index_->functions.emplace(key, id);
  return id;
}

int32_t ProfileBuilder::add_mapping(const Mapping& mapping) {
  std::string key;
  append_u64(key, mapping.start);
  append_u64(key, mapping.limit);
  append_u64(key, mapping.offset);
  append_field(key, mapping.filename);
  auto it = index_->mappings.find(std::string_view(key));
  if (it != index_->mappings.end()) return static_cast<int32_t>(it->second);
  auto id = static_cast<uint32_t>(profile_.mappings.size());
  profile_.mappings.push_back(mapping);
  index_->mappings.emplace(std::move(key), id);
  return static_cast<int32_t>(id);
}

uint32_t ProfileBuilder::add_location(uint64_t address, int32_t mapping, std::span<const Line> lines) {
  std::string& key = index_->scratch;
  key.clear();
  append_u64(key, address);
  append_u64(key, static_cast<uint64_t>(static_cast<int64_t>(mapping)));
  for (const Line& l : lines) {
    append_u64(key, l.function);
    append_u64(key, static_cast<uint64_t>(l.line));
  }
  auto it = index_->locations.find(std::string_view(key));
  if (it != index_->locations.end()) return it->second;
  auto id = static_cast<uint32_t>(profile_.locations.size());
  profile_.locations.push_back(Location{address, mapping, std::vector<Line>(lines.begin(), lines.end())});
  index_->locations.emplace(key, id);
  return id;
}

uint32_t ProfileBuilder::add_location(uint64_t address, int32_t mapping, std::span<const symbolize::Frame> frames) {
  std::vector<Line> lines;
  lines.reserve(std::max<size_t>(frames.size(), 1));
  for (const symbolize::Frame& f : frames) {
    if (f.known()) {
      lines.push_back(Line{add_function(f.function, f.function, f.file, f.start_line), f.line});
    } else {
      char name[32];
      std::snprintf(name, sizeof name, "0x%llx", static_cast<unsigned long long>(f.pc));
      lines.push_back(Line{add_function(name), 0});
    }
  }
  if (lines.empty()) {
    char name[32];
    std::snprintf(name, sizeof name, "0x%llx", static_cast<unsigned long long>(address));
    lines.push_back(Line{add_function(name), 0});
  }
  return add_location(address, mapping, lines);
}

uint32_t ProfileBuilder::add_named_location(std::string_view name) {
  auto it = index_->named_locations.find(name);
  if (it != index_->named_locations.end()) return it->second;
  Line line{add_function(name), 0};
  uint32_t id = add_location(0, -1, std::span<const Line>(&line, 1));
  index_->named_locations.emplace(std::string(name), id);
  return id;
}

void ProfileBuilder::add_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                                std::span<const Label> labels) {
  auto& samples = profile_.samples;
  Sample& s = samples.emplace_back();
  s.locations.assign(locations.begin(), locations.end());
  s.labels.assign(labels.begin(), labels.end());
  if (s.labels.size() > 1) std::sort(s.labels.begin(), s.labels.end(), label_less);
  const size_t n = profile_.sample_types.empty() ? values.size() : profile_.sample_types.size();
  auto [it, inserted] = index_->samples.insert(static_cast<uint32_t>(samples.size() - 1));
  if (inserted) {
    s.values.assign(n, 0);
    for (size_t i = 0; i < n && i < values.size(); ++i) s.values[i] = values[i];
    return;
  }
  samples.pop_back();
  Sample& existing = samples[*it];
  for (size_t i = 0; i < existing.values.size() && i < values.size(); ++i) existing.values[i] += values[i];
}

void ProfileBuilder::append_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                                   std::span<const Label> labels) {
  Sample& s = profile_.samples.emplace_back();
  s.locations.assign(locations.begin(), locations.end());
  s.labels.assign(labels.begin(), labels.end());
  s.values.assign(values.begin(), values.end());
  s.values.resize(profile_.sample_types.empty() ? values.size() : profile_.sample_types.size());
}

void ProfileBuilder::add_count(std::span<const uint32_t> locations, int64_t count, std::span<const Label> labels) {
  add_sample(locations, std::span<const int64_t>(&count, 1), labels);
}

Profile ProfileBuilder::take() {
  Profile out = std::move(profile_);
  profile_ = Profile{};
  profile_.sample_types = out.sample_types;
  profile_.period_type = out.period_type;
  profile_.period = out.period;
  index_ = std::make_unique<Index>(&profile_.samples);
  return out;
}

}  // namespace goperf::flamegraph

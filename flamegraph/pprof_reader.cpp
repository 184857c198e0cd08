// PprofReader: decodes with the generated protobuf classes, then resolves ids and string indexes into the
// model's vector indexes, checking each reference (a profile from anyone may be inconsistent).
#include "flamegraph/pprof_reader.h"

#include <unordered_map>

#include "flamegraph/file_io.h"
#include "flamegraph/gzip.h"
#include "profile.pb.h"

namespace goperf::flamegraph {
namespace {

Error bad(const std::string& what) { return make_error(ErrorCode::kFormat, "not a valid pprof profile: " + what); }

// Maps the format's ids (any non-zero value) to indexes into the model's vectors.
class IdMap {
 public:
  bool add(uint64_t id, uint32_t index) {
    if (id == 0) return false;
    if (id <= kDense) {
      if (dense_.size() < id + 1) dense_.resize(id + 1, kNone);
      if (dense_[id] != kNone) return false;
      dense_[id] = index;
      return true;
    }
    return sparse_.emplace(id, index).second;
  }
  // kNone when the id is unknown.
  uint32_t find(uint64_t id) const {
    if (id <= kDense) return id < dense_.size() ? dense_[id] : kNone;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kNone : it->second;
  }
  static constexpr uint32_t kNone = 0xffffffffu;

 private:
  static constexpr uint64_t kDense = 1u << 24;  // ids from 1 upwards: a vector; anything else: a hash map
  std::vector<uint32_t> dense_;
  std::unordered_map<uint64_t, uint32_t> sparse_;
};

// The string table with the format's index rule: an index outside it reads as "" and is remembered, so the
// whole profile is rejected once decoded (the same error whichever field held the bad index).
class Strings {
 public:
  explicit Strings(const google::protobuf::RepeatedPtrField<std::string>& table) : table_(table) {}
  const std::string& operator()(int64_t i) {
    if (i < 0 || i >= table_.size()) {
      ok_ = false;
      return table_[0];
    }
    return table_[static_cast<int>(i)];
  }
  bool ok() const { return ok_; }

 private:
  const google::protobuf::RepeatedPtrField<std::string>& table_;
  bool ok_ = true;
};

// Inflates a gzip-wrapped profile into `inflated` and points `bytes` at it.
Status maybe_gunzip(std::string_view& bytes, std::string& inflated) {
  if (!is_gzip(bytes)) return {};
  auto r = gunzip(bytes);
  if (!r) return std::move(r).error();
  inflated = std::move(r).value();
  bytes = inflated;
  if (bytes.empty()) return bad("the gzip stream is empty");
  return {};
}

// Sample types, period, times, comments and the default sample type.
void read_header(const pprof::Profile& in, Strings& str, Profile& p) {
  for (const auto& vt : in.sample_type()) p.sample_types.push_back({str(vt.type()), str(vt.unit())});
  if (in.has_period_type()) p.period_type = {str(in.period_type().type()), str(in.period_type().unit())};
  p.period = in.period();
  p.time_nanos = in.time_nanos();
  p.duration_nanos = in.duration_nanos();
  for (int64_t c : in.comment()) p.comments.push_back(str(c));
  if (in.default_sample_type() != 0) {
    const std::string& name = str(in.default_sample_type());
    for (size_t i = 0; i < p.sample_types.size(); ++i) {
      if (p.sample_types[i].type == name) p.default_sample_type = static_cast<int>(i);
    }
  }
}

Status read_mappings(const pprof::Profile& in, Strings& str, IdMap& mapping_ids, Profile& p) {
  p.mappings.reserve(static_cast<size_t>(in.mapping_size()));
  for (const auto& m : in.mapping()) {
    if (!mapping_ids.add(m.id(), static_cast<uint32_t>(p.mappings.size()))) return bad("zero or repeated mapping id");
    Mapping& out = p.mappings.emplace_back();
    out.start = m.memory_start();
    out.limit = m.memory_limit();
    out.offset = m.file_offset();
    out.filename = str(m.filename());
    out.build_id = str(m.build_id());
    out.has_functions = m.has_functions();
    out.has_filenames = m.has_filenames();
    out.has_line_numbers = m.has_line_numbers();
    out.has_inline_frames = m.has_inline_frames();
  }
  return {};
}

Status read_functions(const pprof::Profile& in, Strings& str, IdMap& function_ids, Profile& p) {
  p.functions.reserve(static_cast<size_t>(in.function_size()));
  for (const auto& f : in.function()) {
    if (!function_ids.add(f.id(), static_cast<uint32_t>(p.functions.size()))) return bad("zero or repeated function id");
    p.functions.push_back(Function{str(f.name()), str(f.system_name()), str(f.filename()), f.start_line()});
  }
  return {};
}

// Locations, each mapping and function reference resolved to an index.
Status read_locations(const pprof::Profile& in, const IdMap& mapping_ids, const IdMap& function_ids,
                      IdMap& location_ids, Profile& p) {
  p.locations.reserve(static_cast<size_t>(in.location_size()));
  for (const auto& l : in.location()) {
    if (!location_ids.add(l.id(), static_cast<uint32_t>(p.locations.size()))) return bad("zero or repeated location id");
    Location& out = p.locations.emplace_back();
    out.address = l.address();
    if (l.mapping_id() != 0) {
      uint32_t m = mapping_ids.find(l.mapping_id());
      if (m == IdMap::kNone) return bad("location " + std::to_string(l.id()) + " refers to an unknown mapping");
      out.mapping = static_cast<int32_t>(m);
    }
    out.lines.reserve(static_cast<size_t>(l.line_size()));
    for (const auto& line : l.line()) {
      uint32_t f = function_ids.find(line.function_id());
      if (f == IdMap::kNone) return bad("location " + std::to_string(l.id()) + " refers to an unknown function");
      out.lines.push_back(Line{f, line.line()});
    }
  }
  return {};
}

// Samples: one value per sample type, location references resolved, labels.
Status read_samples(const pprof::Profile& in, Strings& str, const IdMap& location_ids, Profile& p) {
  const size_t nvalues = p.sample_types.size();
  p.samples.reserve(static_cast<size_t>(in.sample_size()));
  for (const auto& s : in.sample()) {
    Sample& out = p.samples.emplace_back();
    if (static_cast<size_t>(s.value_size()) != nvalues) {
      return bad("a sample has " + std::to_string(s.value_size()) + " values for " + std::to_string(nvalues) +
                 " sample types");
    }
    out.values.assign(s.value().begin(), s.value().end());
    out.locations.reserve(static_cast<size_t>(s.location_id_size()));
    for (uint64_t id : s.location_id()) {
      uint32_t l = location_ids.find(id);
      if (l == IdMap::kNone) return bad("a sample refers to unknown location " + std::to_string(id));
      out.locations.push_back(l);
    }
    for (const auto& l : s.label()) {
      Label& lab = out.labels.emplace_back();
      lab.key = str(l.key());
      lab.str = str(l.str());
      lab.num = l.num();
      lab.num_unit = str(l.num_unit());
    }
  }
  return {};
}

}  // namespace

Result<Profile> parse_pprof(std::string_view bytes) {
  if (bytes.empty()) return make_error(ErrorCode::kFormat, "empty file");
  std::string inflated;
  if (auto s = maybe_gunzip(bytes, inflated); !s) return std::move(s).error();
  pprof::Profile in;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) || !in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("protobuf decoding failed (truncated or not a profile)");
  }
  // Every profile.proto starts its string table with "" (the format's rule, checked by pprof too).
  if (in.string_table().empty() || !in.string_table()[0].empty()) return bad("string_table[0] is not \"\"");
  if (in.sample_type_size() == 0 && in.sample_size() > 0) return bad("samples without sample types");
  Strings str(in.string_table());

  Profile p;
  read_header(in, str, p);
  IdMap mapping_ids, function_ids, location_ids;
  if (auto s = read_mappings(in, str, mapping_ids, p); !s) return std::move(s).error();
  if (auto s = read_functions(in, str, function_ids, p); !s) return std::move(s).error();
  if (auto s = read_locations(in, mapping_ids, function_ids, location_ids, p); !s) return std::move(s).error();
  if (auto s = read_samples(in, str, location_ids, p); !s) return std::move(s).error();
  if (!str.ok()) return bad("a string index is outside the string table");
  return p;
}

Result<Profile> read_pprof_file(const std::string& path) {
  auto bytes = read_whole_file(path);
  if (!bytes) return std::move(bytes).error();
  auto p = parse_pprof(*bytes);
  if (!p) return std::move(p).error().with_context(path);
  return p;
}

}  // namespace goperf::flamegraph

// PprofWriter: fills the generated goperf::pprof::Profile message from the model, interning strings.
#include "flamegraph/pprof_writer.h"

#include <string_view>
#include <unordered_map>

#include "flamegraph/file_io.h"
#include "flamegraph/gzip.h"
#include "flamegraph/profile.h"
#include "profile.pb.h"

namespace goperf::flamegraph {
namespace {

// The format stores every string once in string_table and refers to it by index; index 0 is "".
class StringTable {
 public:
  explicit StringTable(pprof::Profile* out) : out_(out) { intern(""); }
  int64_t intern(std::string_view s) {
    auto it = index_.find(s);
    if (it != index_.end()) return it->second;
    auto id = static_cast<int64_t>(out_->string_table_size());
    out_->add_string_table(std::string(s));
    index_.emplace(out_->string_table(static_cast<int>(id)), id);
    return id;
  }

 private:
  pprof::Profile* out_;
  // Keys view the strings stored in out_, which a RepeatedPtrField never moves.
  std::unordered_map<std::string_view, int64_t> index_;
};

void fill_value_type(pprof::ValueType* vt, const ValueType& in, StringTable& strings) {
  vt->set_type(strings.intern(in.type));
  vt->set_unit(strings.intern(in.unit));
}

}  // namespace

std::string encode_pprof(const Profile& p) {
  pprof::Profile out;
  StringTable strings(&out);

  for (const ValueType& vt : p.sample_types) fill_value_type(out.add_sample_type(), vt, strings);
  if (!p.period_type.type.empty() || !p.period_type.unit.empty()) {
    fill_value_type(out.mutable_period_type(), p.period_type, strings);
  }
  out.set_period(p.period);
  out.set_time_nanos(p.time_nanos);
  out.set_duration_nanos(p.duration_nanos);
  // The model keeps an index into sample_types; the format names the type by its string.
  if (p.default_sample_type >= 0 && static_cast<size_t>(p.default_sample_type) < p.sample_types.size()) {
    out.set_default_sample_type(strings.intern(p.sample_types[static_cast<size_t>(p.default_sample_type)].type));
  }
  for (const std::string& c : p.comments) out.add_comment(strings.intern(c));

  for (size_t i = 0; i < p.mappings.size(); ++i) {
    const Mapping& m = p.mappings[i];
    pprof::Mapping* pm = out.add_mapping();
    pm->set_id(i + 1);
    pm->set_memory_start(m.start);
    pm->set_memory_limit(m.limit);
    pm->set_file_offset(m.offset);
    pm->set_filename(strings.intern(m.filename));
    pm->set_build_id(strings.intern(m.build_id));
    pm->set_has_functions(m.has_functions);
    pm->set_has_filenames(m.has_filenames);
    pm->set_has_line_numbers(m.has_line_numbers);
    pm->set_has_inline_frames(m.has_inline_frames);
  }
  for (size_t i = 0; i < p.functions.size(); ++i) {
    const Function& f = p.functions[i];
    pprof::Function* pf = out.add_function();
    pf->set_id(i + 1);
    pf->set_name(strings.intern(f.name));
    pf->set_system_name(strings.intern(f.system_name));
    pf->set_filename(strings.intern(f.filename));
    pf->set_start_line(f.start_line);
  }
  for (size_t i = 0; i < p.locations.size(); ++i) {
    const Location& l = p.locations[i];
    pprof::Location* pl = out.add_location();
    pl->set_id(i + 1);
    if (l.mapping >= 0 && static_cast<size_t>(l.mapping) < p.mappings.size()) {
      pl->set_mapping_id(static_cast<uint64_t>(l.mapping) + 1);
    }
    pl->set_address(l.address);
    for (const Line& line : l.lines) {
      pprof::Line* pline = pl->add_line();
      pline->set_function_id(uint64_t{line.function} + 1);
      pline->set_line(line.line);
    }
  }
  for (const Sample& s : p.samples) {
    pprof::Sample* ps = out.add_sample();
    ps->mutable_location_id()->Reserve(static_cast<int>(s.locations.size()));
    for (uint32_t loc : s.locations) ps->add_location_id(uint64_t{loc} + 1);
    for (int64_t v : s.values) ps->add_value(v);
    for (const Label& l : s.labels) {
      pprof::Label* pl = ps->add_label();
      pl->set_key(strings.intern(l.key));
      if (!l.str.empty()) {
        pl->set_str(strings.intern(l.str));
      } else {
        pl->set_num(l.num);
        if (!l.num_unit.empty()) pl->set_num_unit(strings.intern(l.num_unit));
      }
    }
  }
  std::string bytes;
  out.SerializeToString(&bytes);
  return bytes;
}

Status PprofWriter::write(const Profile& profile, std::string& out) const {
  std::string bytes = encode_pprof(profile);
  out += options_.compress ? gzip_compress(bytes) : bytes;
  return {};
}

Status write_pprof_file(const Profile& profile, const std::string& path) {
  std::string bytes;
  if (Status st = PprofWriter().write(profile, bytes); !st) return st;
  return write_whole_file(path, bytes);
}

}  // namespace goperf::flamegraph

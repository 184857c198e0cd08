// Profile: the in-memory profile model, close to pprof's (samples -> locations -> lines -> functions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace goperf::flamegraph {

struct ValueType {
  std::string type;  // "samples", "cpu"
  std::string unit;  // "count", "nanoseconds"
};

struct Function {
  std::string name;
  std::string system_name;
  std::string filename;
  int64_t start_line = 0;
};

struct Line {
  uint32_t function = 0;  // index into Profile::functions
  int64_t line = 0;
};

struct Mapping {
  uint64_t start = 0, limit = 0, offset = 0;
  std::string filename;
  std::string build_id;
  bool has_functions = false, has_filenames = false, has_line_numbers = false, has_inline_frames = false;
};

struct Location {
  uint64_t address = 0;         // as in the process (re-symbolizable with the mapping)
  int32_t mapping = -1;         // index into Profile::mappings, -1 when none
  std::vector<Line> lines;      // innermost (inlined) first; the last is the physical function
};

struct Label {
  std::string key;
  std::string str;              // string label, or
  int64_t num = 0;              // numeric label (when str is empty)
  std::string num_unit;
};

struct Sample {
  std::vector<uint32_t> locations;  // indexes into Profile::locations, leaf first
  std::vector<int64_t> values;      // one per sample type
  std::vector<Label> labels;
};

struct Profile {
  std::vector<ValueType> sample_types;
  ValueType period_type;
  int64_t period = 0;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  int default_sample_type = -1;      // index into sample_types, -1 = the last one (pprof's rule)
  std::vector<std::string> comments;

  std::vector<Function> functions;
  std::vector<Mapping> mappings;
  std::vector<Location> locations;
  std::vector<Sample> samples;
};

}  // namespace goperf::flamegraph

// ProfileBuilder: builds a Profile one sample (or one pre-aggregated count) at a time, interning functions,
// mappings and locations and merging samples with the same stack and labels, as runtime/pprof's
// profBuf-to-proto step does (runtime/pprof/proto.go).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "flamegraph/profile.h"

namespace goperf::symbolize {
struct Frame;
}

namespace goperf::flamegraph {

class ProfileBuilder {
 public:
  // `sample_types` fixes how many values every sample carries. (No defaults: a braced one-argument call
  // would be ambiguous with the deleted copy constructor.)
  ProfileBuilder(std::vector<ValueType> sample_types, ValueType period_type, int64_t period);
  ~ProfileBuilder();
  // Not copyable or movable (the sample index points into the profile): hold it in a unique_ptr or
  // std::optional to hand it around.
  ProfileBuilder(const ProfileBuilder&) = delete;
  ProfileBuilder& operator=(const ProfileBuilder&) = delete;

  // The profile under construction, for its header fields (time, duration, comments, ...). Do not
  // add functions, locations or samples to it directly: the builder's indexes would go stale.
  Profile& profile() { return profile_; }

  // Interned: the same arguments return the same index.
  uint32_t add_function(std::string_view name, std::string_view system_name = {},
                        std::string_view filename = {}, int64_t start_line = 0);
  // Interned by (start, limit, offset, filename); returns an index into Profile::mappings.
  int32_t add_mapping(const Mapping& mapping);
  // Interned by (mapping, address, lines). `lines` is innermost first, the physical function last.
  uint32_t add_location(uint64_t address, int32_t mapping, std::span<const Line> lines);
  // A location from symbolized frames at one pc (innermost first, as Symbolizer::symbolize_inlined
  // returns them). Frames without a function name become "0x<pc>" so a stack never loses a level.
  uint32_t add_location(uint64_t address, int32_t mapping, std::span<const symbolize::Frame> frames);
  // A location with a single function named `name` and no address (folded stacks, synthetic frames).
  uint32_t add_named_location(std::string_view name);

  // Adds `values` (one per sample type) to the sample with these locations (leaf first) and labels,
  // creating it on first sight. A pre-aggregated count is just values > 1. Label order is ignored.
  void add_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                  std::span<const Label> labels = {});
  // Appends a sample without looking for an identical one (faster; the profile may then hold repeated
  // stacks, which every reader and writer sums). Do not mix with add_sample on the same builder.
  void append_sample(std::span<const uint32_t> locations, std::span<const int64_t> values,
                     std::span<const Label> labels = {});
  // Shorthand for profiles with one sample type.
  void add_count(std::span<const uint32_t> locations, int64_t count, std::span<const Label> labels = {});

  size_t sample_count() const { return profile_.samples.size(); }

  // Ends the build and hands over the profile; the builder is empty afterwards.
  Profile take();

 private:
  struct Index;
  Profile profile_;
  std::unique_ptr<Index> index_;
};

}  // namespace goperf::flamegraph

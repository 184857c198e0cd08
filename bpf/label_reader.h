// LabelReader: decodes a goroutine's pprof label set (the g.labels pointer captured at sample time by
// the eBPF program) from the target's memory, cached per (process, pointer): a published label set is
// never modified (runtime/pprof builds a new one for every pprof.Do / WithLabels), so one read suffices.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace goperf::unwind {
class Memory;
}

namespace goperf::bpf {

using LabelPairs = std::vector<std::pair<std::string_view, std::string_view>>;

class LabelReader {
 public:
  // go_minor: Go 1.N of the target (< 24: labelMap is map[string]string, runtime/pprof/label.go up to
  // 1.23; >= 24: a struct holding a sorted []label). 0: recognise the layout from the bytes.
  explicit LabelReader(int go_minor) : go_minor_(go_minor) {}

  // The labels at `labels` (g.labels) of process pid, sorted by key; empty when none or unreadable.
  std::span<const std::pair<std::string_view, std::string_view>> get(uint32_t pid, uint64_t labels,
                                                                     const unwind::Memory& mem);
  size_t cached() const { return cache_.size(); }

 private:
  struct Entry {
    std::vector<std::pair<std::string, std::string>> owned;
    LabelPairs views;
  };
  bool decode_slice(uint64_t labels, const unwind::Memory& mem, Entry& out);
  bool decode_map(uint64_t labels, const unwind::Memory& mem, Entry& out);

  int go_minor_;
  std::map<std::pair<uint32_t, uint64_t>, Entry> cache_;
};

}  // namespace goperf::bpf

// SortedSymbolizer: symbolizes pcs of one module that come in address order. It keeps the current Go
// function's tables decoded (FuncLineTable), so all pcs of one function cost one decode, and the
// pclntab is read front to back instead of at random: on a million random pcs, sorted first, this is
// several times cheaper than one Module::symbolize per pc, which decodes from the function entry every
// time. Any order gives right answers, only slower.
// symbolize_batch sorts for the caller.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "symbolize/frame.h"
#include "symbolize/func_line_table.h"

namespace goperf::symbolize {

class Module;

class SortedSymbolizer {
 public:
  explicit SortedSymbolizer(const Module& module);
  // Appends what Module::symbolize(pc, is_return_address, out) appends.
  void symbolize(uint64_t pc, bool is_return_address, std::vector<Frame>& out);
  // Whether symbolize(pc, is_return_address, ...) would give the frames of the last Go pc symbolized
  // (without their pc): true only when that is certain without a lookup (the same row of the same
  // function's tables).
  bool same_frames_as_last(uint64_t pc, bool is_return_address) const {
    uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
    return have_func_ && func_.same_row_as_last(lookup);
  }

 private:
  const Module& module_;
  const Pclntab* table_;
  FuncLineTable func_;
  bool have_func_ = false;
};

struct SymbolizedBatch {
  std::vector<Frame> frames;                          // each pc's frames together, pcs in no set order
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // per input pc: first frame and frame count

  std::span<const Frame> at(size_t i) const {
    return std::span<const Frame>(frames).subspan(ranges[i].first, ranges[i].second);
  }
};

// For each pc (link-time addresses), the frames Module::symbolize(pc, is_return_address, ...) gives,
// found in address order. `out` is overwritten; its buffers are reused.
void symbolize_batch(const Module& module, std::span<const uint64_t> pcs, bool is_return_address,
                     SymbolizedBatch& out);

}  // namespace goperf::symbolize

// SortedSymbolizer: find_func only when a pc leaves the current function, then FuncLineTable.
#include "symbolize/sorted_symbolizer.h"

#include "symbolize/module.h"
#include "symbolize/pc_order.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

SortedSymbolizer::SortedSymbolizer(const Module& module) : module_(module), table_(module.pclntab()) {}

void SortedSymbolizer::symbolize(uint64_t pc, bool is_return_address, std::vector<Frame>& out) {
  // A return address points after the call; the call itself is at pc-1 (runtime.CallersFrames).
  uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
  if (table_ && !(have_func_ && func_.contains(lookup))) {
    auto f = table_->find_func(lookup);
    have_func_ = f.has_value();
    if (f) func_.load(*table_, *f);
  }
  if (!table_ || !have_func_) {
    module_.symbolize(pc, is_return_address, out);  // not Go code: native symbols
    return;
  }
  size_t first = out.size();
  func_.frames(lookup, out);
  for (size_t j = first; j < out.size(); ++j) out[j].pc = pc;
}

void symbolize_batch(const Module& module, std::span<const uint64_t> pcs, bool is_return_address,
                     SymbolizedBatch& out) {
  out.frames.clear();
  out.ranges.assign(pcs.size(), {0, 0});
  PcOrder order;
  order.sort(pcs);
  SortedSymbolizer symbolizer(module);
  for (size_t k = 0; k < order.size(); ++k) {
    uint64_t pc = order.pc(k);
    uint32_t i = order.position(k);
    if (k > 0 && order.pc(k - 1) == pc) {  // the same pc again: the same frames
      out.ranges[i] = out.ranges[order.position(k - 1)];
      continue;
    }
    auto first = uint32_t(out.frames.size());
    symbolizer.symbolize(pc, is_return_address, out.frames);
    out.ranges[i] = {first, uint32_t(out.frames.size()) - first};
  }
}

}  // namespace goperf::symbolize

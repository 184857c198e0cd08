// FuncLineTable: one Go function's line information (inline tree index, file and line tables) decoded
// once into runs, so that many pcs of the same function cost one decode. Pclntab::frames decodes the
// tables from the function's entry for every pc and every inline level, as the runtime does; a batch of
// sorted pcs (addr2line over a file of addresses, a profile's distinct pcs) answers each pc here by
// binary search instead.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "symbolize/frame.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

class FuncLineTable {
 public:
  // Decodes f's tables, reusing this object's buffers.
  void load(const Pclntab& table, const FuncInfo& f);
  const FuncInfo& func() const { return func_; }
  bool contains(uint64_t pc) const { return pc >= func_.entry && pc < func_.end; }

  // Appends exactly what Pclntab::frames(func(), lookup_pc, out) appends.
  void frames(uint64_t lookup_pc, std::vector<Frame>& out);

 private:
  static std::optional<int32_t> value_at(const std::vector<PcValueRun>& runs, uint64_t pc);
  std::pair<std::string_view, int> file_line(uint64_t pc);
  const InlinedCall* call(int32_t index);
  std::string_view file_name(int32_t fileno);

  const Pclntab* table_ = nullptr;
  FuncInfo func_;
  std::vector<PcValueRun> inline_index_, file_, line_;
  std::span<const uint8_t> tree_;
  // Entries of the inline tree and file names, looked up once per function: a batch asks for the
  // same few again and again.
  std::vector<std::optional<InlinedCall>> calls_;
  std::vector<bool> call_read_;
  std::vector<std::pair<int32_t, std::string_view>> files_;
};

}  // namespace goperf::symbolize

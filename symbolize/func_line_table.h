// FuncLineTable: one Go function's line information (inline tree index, file and line tables) decoded
// once into runs, so that many pcs of the same function cost one decode. Pclntab::frames decodes the
// tables from the function's entry for every pc and every inline level, as the runtime does; a batch of
// sorted pcs (addr2line over a file of addresses, a profile's distinct pcs) answers each pc here from
// one merged table, walked forward as the pcs ascend.
#pragma once

#include <climits>
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
  // Starts on f's tables (decoded as far as pcs are asked), reusing this object's buffers.
  void load(const Pclntab& table, const FuncInfo& f);
  bool contains(uint64_t pc) const { return pc >= func_.entry && pc < func_.end; }

  // Appends exactly what Pclntab::frames(func(), lookup_pc, out) appends.
  void frames(uint64_t lookup_pc, std::vector<Frame>& out);
  // Whether the last pc asked of frames() and `lookup_pc` share one row of the tables, and so have the
  // same frames: ascending pcs a few bytes apart mostly do.
  bool same_row_as_last(uint64_t lookup_pc) const {
    return last_row_ < rows_.size() && lookup_pc < rows_[last_row_].end && contains(lookup_pc) &&
           (last_row_ == 0 ? lookup_pc >= func_.entry : lookup_pc >= rows_[last_row_ - 1].end);
  }

 private:
  // The three tables merged: one row per stretch of pcs where none of them changes, so one search
  // answers all three. kAbsent marks a pc past the end of a table (pcvalue's "no value").
  static constexpr int32_t kAbsent = INT32_MIN;
  struct Row {
    uint64_t end;  // exclusive; the row starts where the previous one ends
    int32_t inline_index, fileno, line;
  };
  bool next_row();             // decodes one more row; false at the end of all three tables
  void decode_to(uint64_t pc);  // decodes rows up to the one holding pc
  const Row* row_at(uint64_t pc);  // nullptr past every table's end
  const Row* row_from_cursor(uint64_t pc);
  std::pair<std::string_view, int> file_line(const Row* row);
  const InlinedCall* call(int32_t index);
  std::string_view file_name(int32_t fileno);

  const Pclntab* table_ = nullptr;
  FuncInfo func_;
  std::vector<Row> rows_;
  PcValueReader readers_[3];  // inline tree index, file, line: where decoding stopped
  PcValueRun runs_[3];
  bool has_run_[3] = {};
  size_t cursor_ = 0;  // the row of the last pc asked: batches ask in ascending order
  size_t last_row_ = SIZE_MAX;  // the row of the last pc frames() answered, if it had one
  std::span<const uint8_t> tree_;
  // Entries of the inline tree and file names, looked up once per function: a batch asks for the
  // same few again and again.
  std::vector<std::optional<InlinedCall>> calls_;
  std::vector<bool> call_read_;
  std::vector<std::pair<int32_t, std::string_view>> files_;
  size_t last_file_ = 0;  // files_[last_file_] was the last asked: neighbouring rows mostly share a file
};

}  // namespace goperf::symbolize

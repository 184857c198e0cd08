// FuncLineTable: Pclntab::frames over decoded runs. Every answer must equal Pclntab::frames, which
// mirrors the runtime (tests/unit/symbolize/sorted_symbolizer_test.cpp checks every pc of real binaries).
#include "symbolize/func_line_table.h"

#include <algorithm>
#include <tuple>

namespace goperf::symbolize {

void FuncLineTable::load(const Pclntab& table, const FuncInfo& f) {
  table_ = &table;
  func_ = f;
  calls_.clear();
  call_read_.clear();
  files_.clear();
  rows_.clear();
  cursor_ = 0;
  last_row_ = SIZE_MAX;
  last_file_ = 0;
  tree_ = table.inline_tree(f);
  readers_[0] = tree_.empty() ? PcValueReader() : table.pcdata_reader(f, Pclntab::kPcdataInlTreeIndex);
  readers_[1] = table.reader(f, Pclntab::FuncTable::kFile);
  readers_[2] = table.reader(f, Pclntab::FuncTable::kLine);
  for (int t = 0; t < 3; ++t) has_run_[t] = readers_[t].next(runs_[t]);
}

bool FuncLineTable::next_row() {
  // pcvalue answers for pc the value of the first run ending after pc. Merged: each row takes, from
  // each table, the run covering it (kAbsent past the table's end) up to the nearest run end.
  uint64_t end = UINT64_MAX;
  bool any = false;
  for (int t = 0; t < 3; ++t) {
    if (has_run_[t]) {
      end = std::min(end, runs_[t].end);
      any = true;
    }
  }
  if (!any) return false;
  Row& r = rows_.emplace_back();
  r.end = end;
  int32_t* values[3] = {&r.inline_index, &r.fileno, &r.line};
  for (int t = 0; t < 3; ++t) {
    *values[t] = has_run_[t] ? runs_[t].value : kAbsent;
    // Ends ascend; a malformed table may repeat one: skip every run this row finishes.
    while (has_run_[t] && runs_[t].end <= end) has_run_[t] = readers_[t].next(runs_[t]);
  }
  return true;
}

void FuncLineTable::decode_to(uint64_t pc) {
  // Rows are decoded only as far as a pc asked: one or two pcs of a large function, as a batch
  // spread over a whole binary mostly has, need a part of its tables.
  while ((rows_.empty() || rows_.back().end <= pc) && next_row()) {
  }
}

const FuncLineTable::Row* FuncLineTable::row_at(uint64_t pc) {
  decode_to(pc);
  // The first row ending after pc, by a branch-free binary search (pcs of a batch are unpredictable).
  size_t len = rows_.size();
  if (len == 0) return nullptr;
  const Row* base = rows_.data();
  while (len > 1) {
    size_t half = len / 2;
    base = base[half - 1].end <= pc ? base + half : base;
    len -= half;
  }
  base += base->end <= pc;
  return base == rows_.data() + rows_.size() ? nullptr : base;
}

const FuncLineTable::Row* FuncLineTable::row_from_cursor(uint64_t pc) {
  decode_to(pc);
  // Ascending pcs mostly land in the cursor's row or a few rows on.
  size_t i = cursor_;
  if (i < rows_.size() && (i == 0 || rows_[i - 1].end <= pc)) {
    for (size_t steps = 0; i < rows_.size() && steps < 8; ++steps, ++i) {
      if (pc < rows_[i].end) {
        cursor_ = i;
        return &rows_[i];
      }
    }
  }
  const Row* r = row_at(pc);
  if (r) cursor_ = size_t(r - rows_.data());
  return r;
}

std::string_view FuncLineTable::file_name(int32_t fileno) {
  if (last_file_ < files_.size() && files_[last_file_].first == fileno) return files_[last_file_].second;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].first == fileno) {
      last_file_ = i;
      return files_[i].second;
    }
  }
  std::string_view name = table_->file_name(func_, fileno);
  last_file_ = files_.size();
  files_.emplace_back(fileno, name);
  return name;
}

std::pair<std::string_view, int> FuncLineTable::file_line(const Row* row) {
  if (!row || row->fileno == kAbsent || row->line == kAbsent) return {{}, 0};
  return {file_name(row->fileno), row->line};
}

const InlinedCall* FuncLineTable::call(int32_t index) {
  if (index < 0) return nullptr;
  if (size_t(index) >= calls_.size()) {
    calls_.resize(size_t(index) + 1);
    call_read_.resize(size_t(index) + 1, false);
  }
  if (!call_read_[size_t(index)]) {
    calls_[size_t(index)] = table_->inlined_call(tree_, index);
    call_read_[size_t(index)] = true;
  }
  const auto& c = calls_[size_t(index)];
  return c ? &*c : nullptr;
}

void FuncLineTable::frames(uint64_t lookup_pc, std::vector<Frame>& out) {
  // Frames are filled in place: building one on the stack and copying it in costs more than the
  // lookup on a warm table.
  const Row* row = row_from_cursor(lookup_pc);
  last_row_ = row ? size_t(row - rows_.data()) : SIZE_MAX;
  if (!tree_.empty()) {
    for (int depth = 0; row && row->inline_index >= 0 && depth < Pclntab::kMaxInlineDepth; ++depth) {
      const InlinedCall* c = call(row->inline_index);
      if (!c) break;
      Frame& fr = out.emplace_back();
      fr.pc = lookup_pc;
      fr.entry = func_.entry;
      fr.inlined = true;
      fr.is_go = true;
      fr.function = c->function;
      fr.start_line = c->start_line;
      std::tie(fr.file, fr.line) = file_line(row);
      row = row_at(func_.entry + c->parent_pc_offset);
    }
  }
  Frame& phys = out.emplace_back();
  phys.pc = lookup_pc;
  phys.entry = func_.entry;
  phys.function = func_.name;
  phys.start_line = func_.start_line;
  phys.is_go = true;
  std::tie(phys.file, phys.line) = file_line(row);
}

}  // namespace goperf::symbolize

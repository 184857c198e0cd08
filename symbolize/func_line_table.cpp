// FuncLineTable: Pclntab::frames over decoded runs. Every answer must equal Pclntab::frames, which
// mirrors the runtime (tests/unit/symbolize/func_line_table_test.cpp checks every pc of real binaries).
#include "symbolize/func_line_table.h"

#include <algorithm>
#include <tuple>

namespace goperf::symbolize {

namespace {
constexpr int kMaxInlineDepth = 256;  // as Pclntab::frames: guards against cycles in a corrupt tree
}  // namespace

void FuncLineTable::load(const Pclntab& table, const FuncInfo& f) {
  table_ = &table;
  func_ = f;
  calls_.clear();
  call_read_.clear();
  files_.clear();
  rows_.clear();
  cursor_ = 0;
  tree_ = table.inline_tree(f);
  PcValueReader inline_index = tree_.empty() ? PcValueReader()
                                             : table.pcdata_reader(f, Pclntab::kPcdataInlTreeIndex);
  PcValueReader file = table.reader(f, Pclntab::FuncTable::kFile);
  PcValueReader line = table.reader(f, Pclntab::FuncTable::kLine);
  // pcvalue answers for pc the value of the first run ending after pc. Merged: each row takes, from
  // each table, the run covering it (kAbsent past the table's end) up to the nearest run end.
  PcValueRun a, b, c;
  bool has_a = inline_index.next(a), has_b = file.next(b), has_c = line.next(c);
  int32_t max_index = -1;
  while (has_a || has_b || has_c) {
    uint64_t end = UINT64_MAX;
    if (has_a) end = std::min(end, a.end);
    if (has_b) end = std::min(end, b.end);
    if (has_c) end = std::min(end, c.end);
    Row& r = rows_.emplace_back();
    r.end = end;
    r.inline_index = has_a ? a.value : kAbsent;
    r.fileno = has_b ? b.value : kAbsent;
    r.line = has_c ? c.value : kAbsent;
    if (has_a) max_index = std::max(max_index, a.value);
    // Ends ascend; a malformed table may repeat one: skip every run this row finishes.
    while (has_a && a.end <= end) has_a = inline_index.next(a);
    while (has_b && b.end <= end) has_b = file.next(b);
    while (has_c && c.end <= end) has_c = line.next(c);
  }
  calls_.resize(size_t(max_index + 1));
  call_read_.assign(size_t(max_index + 1), false);
}

const FuncLineTable::Row* FuncLineTable::row_at(uint64_t pc) const {
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
  for (const auto& [n, name] : files_)
    if (n == fileno) return name;
  std::string_view name = table_->file_name(func_, fileno);
  files_.emplace_back(fileno, name);
  return name;
}

std::pair<std::string_view, int> FuncLineTable::file_line(const Row* row) {
  if (!row || row->fileno == kAbsent || row->line == kAbsent) return {{}, 0};
  return {file_name(row->fileno), row->line};
}

const InlinedCall* FuncLineTable::call(int32_t index) {
  if (index < 0 || size_t(index) >= calls_.size()) return nullptr;
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
  if (!tree_.empty()) {
    for (int depth = 0; row && row->inline_index >= 0 && depth < kMaxInlineDepth; ++depth) {
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

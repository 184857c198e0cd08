// FuncLineTable: Pclntab::frames over decoded runs. Every answer must equal Pclntab::frames, which
// mirrors the runtime (tests/unit/symbolize/func_line_table_test.cpp checks every pc of real binaries).
#include "symbolize/func_line_table.h"

#include <algorithm>

namespace goperf::symbolize {

namespace {
constexpr int kMaxInlineDepth = 256;  // as Pclntab::frames: guards against cycles in a corrupt tree
}  // namespace

void FuncLineTable::load(const Pclntab& table, const FuncInfo& f) {
  table_ = &table;
  func_ = f;
  inline_index_.clear();
  file_.clear();
  line_.clear();
  calls_.clear();
  call_read_.clear();
  files_.clear();
  tree_ = table.inline_tree(f);
  if (!tree_.empty()) {
    table.pcdata_runs(f, Pclntab::kPcdataInlTreeIndex, inline_index_);
    int32_t max_index = -1;
    for (const auto& r : inline_index_) max_index = std::max(max_index, r.value);
    calls_.resize(size_t(max_index + 1));
    call_read_.assign(size_t(max_index + 1), false);
  }
  table.runs(f, Pclntab::FuncTable::kFile, file_);
  table.runs(f, Pclntab::FuncTable::kLine, line_);
}

std::optional<int32_t> FuncLineTable::value_at(const std::vector<PcValueRun>& runs, uint64_t pc) {
  // pcvalue's answer: the value of the first run that ends after pc.
  auto it = std::upper_bound(runs.begin(), runs.end(), pc,
                             [](uint64_t p, const PcValueRun& r) { return p < r.end; });
  if (it == runs.end()) return std::nullopt;
  return it->value;
}

std::string_view FuncLineTable::file_name(int32_t fileno) {
  for (const auto& [n, name] : files_)
    if (n == fileno) return name;
  std::string_view name = table_->file_name(func_, fileno);
  files_.emplace_back(fileno, name);
  return name;
}

std::pair<std::string_view, int> FuncLineTable::file_line(uint64_t pc) {
  auto fileno = value_at(file_, pc);
  auto line = value_at(line_, pc);
  if (!fileno || !line) return {{}, 0};
  return {file_name(*fileno), *line};
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
  Frame phys;
  phys.pc = lookup_pc;
  phys.entry = func_.entry;
  phys.function = func_.name;
  phys.start_line = func_.start_line;
  phys.is_go = true;
  uint64_t p = lookup_pc;
  if (!tree_.empty()) {
    std::optional<int32_t> ix = value_at(inline_index_, p);
    for (int depth = 0; ix && *ix >= 0 && depth < kMaxInlineDepth; ++depth) {
      const InlinedCall* c = call(*ix);
      if (!c) break;
      Frame fr;
      fr.pc = lookup_pc;
      fr.entry = func_.entry;
      fr.inlined = true;
      fr.is_go = true;
      fr.function = c->function;
      fr.start_line = c->start_line;
      auto [file, line] = file_line(p);
      fr.file = file;
      fr.line = line;
      out.push_back(fr);
      p = func_.entry + c->parent_pc_offset;
      ix = value_at(inline_index_, p);
    }
  }
  auto [file, line] = file_line(p);
  phys.file = file;
  phys.line = line;
  out.push_back(phys);
}

}  // namespace goperf::symbolize

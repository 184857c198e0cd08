// Function-level queries of a module's pclntab, for the layers above symbolize/.
#include "symbolize/go_functions.h"

#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

std::optional<FuncInfo> find_go_func(const Module& module, uint64_t link_pc) {
  const Pclntab* tab = module.pclntab();
  return tab != nullptr ? tab->find_func(link_pc) : std::nullopt;
}

std::optional<FuncInfo> find_go_func_by_name(const Module& module, std::string_view name) {
  const Pclntab* tab = module.pclntab();
  return tab != nullptr ? tab->find_func_by_name(name) : std::nullopt;
}

std::pair<std::string_view, int> go_file_line(const Module& module, const FuncInfo& f, uint64_t link_pc) {
  const Pclntab* tab = module.pclntab();
  return tab != nullptr ? tab->file_line(f, link_pc) : std::pair<std::string_view, int>{};
}

void go_frames(const Module& module, const FuncInfo& f, uint64_t lookup_pc, std::vector<Frame>& out) {
  if (const Pclntab* tab = module.pclntab()) tab->frames(f, lookup_pc, out);
}

uint64_t outermost_inline_call_pc(const Module& module, const FuncInfo& f, uint64_t link_pc) {
  const Pclntab* tab = module.pclntab();
  if (tab == nullptr) return link_pc;
  std::span<const uint8_t> tree = tab->inline_tree(f);
  if (tree.empty()) return link_pc;
  uint64_t pc = link_pc;
  for (int depth = 0; depth < 100; ++depth) {  // runtime/traceback.go: each step goes one call outwards
    auto ix = tab->pcdata(f, Pclntab::kPcdataInlTreeIndex, pc);
    if (!ix || *ix < 0) break;
    auto call = tab->inlined_call(tree, *ix);
    if (!call) break;
    pc = f.entry + call->parent_pc_offset;
  }
  return pc;
}

Error not_go_error(const Module& module, const std::string& path) {
  // The loader's own error says why (it names the file); a table that loads here but not in the Module
  // is still "not Go" to the user.
  auto why = Pclntab::load(module.elf_ptr());
  return why.ok() ? make_error(ErrorCode::kFormat, path + ": not a Go program (no Go function table)") : why.error();
}

std::optional<GoFunctionTableFacts> go_function_table_facts(const Module& module,
                                                            bool (*is_cgo_generated)(std::string_view)) {
  const Pclntab* tab = module.pclntab();
  if (tab == nullptr) return std::nullopt;
  GoFunctionTableFacts r;
  r.magic = tab->magic();
  const auto& loc = tab->location();
  r.scanned = loc.source == Pclntab::Location::Source::kScan;
  r.section = loc.section;
  r.vaddr = loc.vaddr;
  r.text_start = tab->text_start();
  r.moduledata_vaddr = tab->moduledata_vaddr();
  r.func_count = tab->func_count();
  for (size_t i = 0; i < r.func_count && !r.cgo_generated; ++i) r.cgo_generated = is_cgo_generated(tab->func_at(i).name);
  if (r.func_count > 0) {
    r.go_start = tab->func_at(0).entry;
    r.go_end = tab->func_at(r.func_count - 1).end;
  }
  return r;
}

}  // namespace goperf::symbolize

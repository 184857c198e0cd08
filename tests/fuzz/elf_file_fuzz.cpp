// libFuzzer target: ElfFile over arbitrary bytes, then everything goperf reads from a Go executable
// (notes, build ids, pclntab with moduledata and inline trees, build info, native symbols).
// Seeds: real Go binaries (scripts/fuzz copies them into a temporary corpus).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace goperf::symbolize;
  auto elf = ElfFile::from_bytes(std::span<const uint8_t>(data, size), "fuzz");
  if (!elf) return 0;
  const ElfFile& e = **elf;
  (void)e.gnu_build_id();
  (void)e.go_build_id();
  for (const auto& s : e.segments()) (void)e.read(s.vaddr, s.filesz);
  (void)e.find_section(".text");
  (void)BuildInfo::read(e);
  auto mod = Module::from_elf(*elf);
  if (!mod) return 0;
  (void)(*mod)->native_symbols().find(e.entry());
  const Pclntab* tab = (*mod)->pclntab();
  if (!tab) return 0;
  std::vector<Frame> frames;
  size_t n = tab->func_count();
  for (size_t i = 0; i < n; i += 1 + n / 64) {
    FuncInfo f = tab->func_at(i);
    for (uint64_t pc : {f.entry, f.entry + (f.end - f.entry) / 2, f.end - 1}) {
      frames.clear();
      (*mod)->symbolize(pc, true, frames);
      (void)tab->sp_delta(f, pc);
      (void)tab->pcdata(f, Pclntab::kPcdataUnsafePoint, pc);
    }
    (void)tab->funcdata(f, Pclntab::kFuncdataArgInfo);
  }
  (void)tab->find_func_by_name("main.main");
  return 0;
}

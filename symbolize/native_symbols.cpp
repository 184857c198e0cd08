// NativeSymbols: function symbols of .symtab and .dynsym, sorted once by address (binary search).
#include "symbolize/native_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "symbolize/elf_file.h"

namespace goperf::symbolize {

NativeSymbols::NativeSymbols(std::shared_ptr<const ElfFile> elf) : elf_(std::move(elf)) {
  const auto& sections = elf_->sections();
  for (const auto& s : sections) {
    if (s.type != SHT_SYMTAB && s.type != SHT_DYNSYM) continue;
    if (s.type == SHT_SYMTAB) has_symtab_ = true;
    uint32_t link = s.link;
    if (link == 0 || link > sections.size()) continue;
    const auto& strtab = sections[link - 1];
    auto strs = elf_->file_bytes(strtab.offset, strtab.type == SHT_NOBITS ? 0 : strtab.size);
    auto syms = elf_->file_bytes(s.offset, s.size);
    for (size_t i = sizeof(Elf64_Sym); i + sizeof(Elf64_Sym) <= syms.size(); i += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, syms.data() + i, sizeof sym);
      unsigned type = ELF64_ST_TYPE(sym.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
        continue;
      if (sym.st_name >= strs.size()) continue;
      const char* name = reinterpret_cast<const char*>(strs.data() + sym.st_name);
      const void* nul = std::memchr(name, 0, strs.size() - sym.st_name);
      if (!nul) continue;
      symbols_.push_back({sym.st_value, sym.st_size,
                          std::string_view(name, static_cast<const char*>(nul) - name)});
    }
  }
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.addr != b.addr ? a.addr < b.addr : a.size > b.size;
  });
  // .symtab and .dynsym repeat exported functions: keep one symbol per address.
  symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                             [](const Symbol& a, const Symbol& b) { return a.addr == b.addr; }),
                 symbols_.end());
}

std::optional<NativeSymbols::Symbol> NativeSymbols::find(uint64_t pc) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), pc,
                             [](uint64_t v, const Symbol& s) { return v < s.addr; });
  if (it == symbols_.begin()) return std::nullopt;
  --it;
  if (it->size != 0 && pc - it->addr >= it->size) return std::nullopt;
  return *it;
}

std::optional<NativeSymbols::Symbol> NativeSymbols::find_by_name(std::string_view name) const {
  for (const auto& s : symbols_)
    if (s.name == name) return s;
  return std::nullopt;
}

}  // namespace goperf::symbolize

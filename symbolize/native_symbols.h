// NativeSymbols: function symbols from ELF .symtab and .dynsym (C code, cgo, libc), sorted for lookup.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace goperf::symbolize {

class ElfFile;

class NativeSymbols {
 public:
  struct Symbol {
    uint64_t addr = 0;   // link-time
    uint64_t size = 0;
    std::string_view name;  // as in the file (mangled)
  };
  explicit NativeSymbols(std::shared_ptr<const ElfFile> elf);
  // The function symbol containing pc (or the nearest one below it when sizes are 0).
  std::optional<Symbol> find(uint64_t pc) const;
  std::optional<Symbol> find_by_name(std::string_view name) const;
  size_t size() const { return symbols_.size(); }
  bool has_symtab() const { return has_symtab_; }  // .symtab present (the binary is not stripped)

 private:
  std::shared_ptr<const ElfFile> elf_;
  std::vector<Symbol> symbols_;  // sorted by addr
  bool has_symtab_ = false;
};

}  // namespace goperf::symbolize

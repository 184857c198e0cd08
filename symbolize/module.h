// Module: one loaded ELF file (a Go executable or a shared library) and everything needed to name
// its addresses: the pclntab for Go code, .symtab/.dynsym for the rest. Parts are decoded lazily.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symbolize/frame.h"
#include "symbolize/result.h"

namespace goperf::symbolize {

class ElfFile;
class Pclntab;
struct BuildInfo;
class NativeSymbols;

// Thread-safe: every const method may be called from several threads at once.
class Module {
 public:
  static Result<std::shared_ptr<const Module>> open(const std::string& path);
  static Result<std::shared_ptr<const Module>> from_elf(std::shared_ptr<const ElfFile> elf);
  ~Module();

  const ElfFile& elf() const;
  std::shared_ptr<const ElfFile> elf_ptr() const;
  const Pclntab* pclntab() const;        // nullptr when the file is not a Go program
  const BuildInfo* build_info() const;   // nullptr when absent
  const NativeSymbols& native_symbols() const;
  bool is_go() const { return pclntab() != nullptr; }

  // Appends the frames at a link-time pc, innermost first. Go code: inline-expanded from the pclntab;
  // other code: the ELF symbol containing pc (file and line unknown); nothing known: one frame with
  // an empty function. A return address (is_return_address) is looked up at pc-1, as the runtime does.
  // Frame.pc and Frame.entry are link-time addresses.
  void symbolize(uint64_t pc, bool is_return_address, std::vector<Frame>& out) const;

 private:
  struct Impl;
  explicit Module(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::symbolize

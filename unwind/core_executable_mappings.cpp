// executable_mappings_from_auxv: the kernel's and qemu-user's ELF loader map each PT_LOAD at
// page_down(p_vaddr + bias) from file offset page_down(p_offset), up to p_vaddr + p_filesz + bias (fs/binfmt_elf.c
// elf_map, linux-user/elfload.c load_elf_image); the bias is AT_ENTRY - e_entry (0 for a non-PIE).
#include "unwind/core_executable_mappings.h"

#include <elf.h>

#include "symbolize/elf_file.h"

namespace goperf::unwind {

std::vector<CoreMappedFile> executable_mappings_from_auxv(const std::string& path, uint16_t machine, uint64_t at_entry) {
  std::vector<CoreMappedFile> out;
  if (path.empty()) return out;
  auto elf = symbolize::ElfFile::open(path);
  if (!elf || (*elf)->machine() != machine || (*elf)->entry() == 0) return out;
  const uint64_t bias = at_entry - (*elf)->entry();
  for (const auto& seg : (*elf)->segments()) {
    if (seg.type != PT_LOAD || seg.filesz == 0) continue;
    constexpr uint64_t page = 4096;
    uint64_t start = (seg.vaddr + bias) & ~(page - 1);
    uint64_t end = (seg.vaddr + bias + seg.filesz + page - 1) & ~(page - 1);
    out.push_back({start, end, seg.offset & ~(page - 1), path});
  }
  return out;
}

}  // namespace goperf::unwind

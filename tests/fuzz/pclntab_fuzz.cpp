// libFuzzer target: the input is a pclntab (header, name/file tables, pc-value tables, functab), placed
// in a minimal ELF image with one PT_LOAD segment and no section headers, so that it is found by
// scanning. Seeds: .gopclntab sections of real Go binaries.
#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/pclntab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace goperf::symbolize;
  constexpr uint64_t kOffset = 0x1000, kVaddr = 0x400000;
  std::vector<uint8_t> image(kOffset + size);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R;
  ph.p_offset = kOffset;
  ph.p_vaddr = ph.p_paddr = kVaddr + kOffset;
  ph.p_filesz = ph.p_memsz = size;
  ph.p_align = 0x1000;
  std::memcpy(image.data(), &eh, sizeof eh);
  std::memcpy(image.data() + sizeof eh, &ph, sizeof ph);
  if (size) std::memcpy(image.data() + kOffset, data, size);
  auto elf = ElfFile::from_bytes(image, "fuzz");
  if (!elf) return 0;
  auto tab = Pclntab::load(*elf);
  if (!tab) return 0;
  const Pclntab& t = **tab;
  std::vector<Frame> frames;
  size_t n = t.func_count();
  for (size_t i = 0; i < n; i += 1 + n / 32) {
    FuncInfo f = t.func_at(i);
    for (uint64_t pc : {f.entry, f.entry + (f.end - f.entry) / 2, f.end - 1}) {
      auto found = t.find_func(pc);
      if (!found) continue;
      frames.clear();
      t.frames(*found, pc, frames);
      (void)t.sp_delta(*found, pc);
      (void)t.file_line(*found, pc);
      (void)t.pcdata(*found, Pclntab::kPcdataInlTreeIndex, pc);
    }
  }
  (void)t.find_func_by_name("runtime.goexit");
  return 0;
}

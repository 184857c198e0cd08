// Core <-> executable matching. The kernel dumps the first page of every ELF mapping (coredump_filter bit 4,
// fs/binfmt_elf.c vma_dump_size), which is where both linkers place .note.go.buildid and .note.gnu.build-id.
#include "unwind/core_executable.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "symbolize/elf_file.h"
#include "unwind/core_memory.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kPage = 4096;

std::string hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

struct BuildIds {
  std::string go, gnu;
  bool read = false;  // some note bytes were in the core
};

// Parses ELF notes (Elf64_Nhdr, 4-byte aligned name and desc) read from the core.
void parse_notes(std::span<const uint8_t> b, BuildIds& ids) {
  size_t off = 0;
  while (off + 12 <= b.size()) {
    uint32_t namesz, descsz, type;
    std::memcpy(&namesz, b.data() + off, 4);
    std::memcpy(&descsz, b.data() + off + 4, 4);
    std::memcpy(&type, b.data() + off + 8, 4);
    size_t name_off = off + 12;
    size_t desc_off = name_off + ((static_cast<size_t>(namesz) + 3) & ~size_t{3});
    size_t next = desc_off + ((static_cast<size_t>(descsz) + 3) & ~size_t{3});
    if (namesz > b.size() || descsz > b.size() || next > b.size()) return;
    const char* name_ptr = reinterpret_cast<const char*>(b.data() + name_off);
    std::string_view name(name_ptr, strnlen(name_ptr, namesz));  // Go pads its name: "Go\0\0"
    auto desc = b.subspan(desc_off, descsz);
    if (name == "Go" && type == 4) ids.go.assign(reinterpret_cast<const char*>(desc.data()), strnlen(reinterpret_cast<const char*>(desc.data()), desc.size()));
    if (name == "GNU" && type == NT_GNU_BUILD_ID) ids.gnu = hex(desc);
    off = next;
  }
}

// Where the file's .go.buildinfo blob starts (link-time address), by section or by its magic in a writable
// segment's file bytes (src/debug/buildinfo: "\xff Go buildinf:").
std::optional<uint64_t> buildinfo_vaddr(const symbolize::ElfFile& exe) {
  if (auto s = exe.find_section(".go.buildinfo")) return s->addr;
  static constexpr char kMagic[] = "\xff Go buildinf:";
  auto bytes = exe.bytes();
  for (const auto& seg : exe.segments()) {
    if (seg.type != PT_LOAD || !(seg.flags & PF_W) || seg.offset >= bytes.size()) continue;
    uint64_t end = std::min<uint64_t>(bytes.size(), seg.offset + seg.filesz);
    for (uint64_t off = seg.offset; off + 14 <= end; off += 16)
      if (std::memcmp(bytes.data() + off, kMagic, 14) == 0) return seg.vaddr + (off - seg.offset);
  }
  return std::nullopt;
}

// Bytes of the blob: the 32-byte header, then (flag bit 1, Go 1.18+) the varint-prefixed Go version and
// module info strings; older blobs hold two pointers instead (src/debug/buildinfo/buildinfo.go).
uint64_t blob_size(const symbolize::ElfFile& exe, uint64_t vaddr, uint8_t flags) {
  if (!(flags & 2)) return 48;
  uint64_t off = 32;
  for (int s = 0; s < 2; s++) {
    uint64_t len = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      auto b = exe.read(vaddr + off++, 1);
      if (!b) return off;
      len |= uint64_t{(*b)[0] & 0x7fu} << shift;
      if (!((*b)[0] & 0x80)) break;
    }
    if (len > (1 << 20)) return off;
    off += len;
  }
  return off;
}

template <class T>
bool read_struct(const CoreMemory& memory, uint64_t addr, T& out) {
  return static_cast<bool>(memory.read_dumped(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), sizeof out)));
}

// The build ids of the program the core was made from, read from that program's own ELF header, program
// headers and notes in the core (its first page is dumped: coredump_filter bit 4), so that they do not
// depend on the file being compared: a file of another program would otherwise point the reads at
// unrelated bytes. ELF64 only, as the cores goperf reads (amd64, arm64).
BuildIds core_executable_build_ids(const CoreMemory& memory) {
  BuildIds ids;
  const CoreMappedFile* main = memory.core().executable_mapping();
  if (main == nullptr) return ids;
  const CoreMappedFile* first = nullptr;
  for (const auto& f : memory.core().mapped_files())
    if (f.path == main->path && f.file_offset == 0) first = &f;
  Elf64_Ehdr eh;
  if (first == nullptr || !read_struct(memory, first->start, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
    return ids;
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  for (size_t i = 0; i < phdrs.size(); i++)
    if (!read_struct(memory, first->start + eh.e_phoff + i * sizeof(Elf64_Phdr), phdrs[i])) return ids;
  // Runtime minus link-time address: the PT_LOAD of file offset 0 is the mapping `first`.
  std::optional<uint64_t> bias;
  for (const auto& ph : phdrs)
    if (ph.p_type == PT_LOAD && (ph.p_offset & ~(kPage - 1)) == 0 && !bias) bias = first->start - (ph.p_vaddr & ~(kPage - 1));
  if (!bias) return ids;
  for (const auto& ph : phdrs) {
    if (ph.p_type != PT_NOTE || ph.p_filesz == 0 || ph.p_filesz > (1 << 20)) continue;
    std::vector<uint8_t> buf(ph.p_filesz);
    if (!memory.read_dumped(ph.p_vaddr + *bias, buf)) continue;
    ids.read = true;
    parse_notes(buf, ids);
  }
  return ids;
}

}  // namespace

std::optional<uint64_t> core_load_bias(const CoreMemory& memory, const symbolize::ElfFile& exe) {
  const CoreMappedFile* main = memory.core().executable_mapping();
  if (main == nullptr) return std::nullopt;
  // The mapping of the executable with the lowest file offset corresponds to the PT_LOAD at that offset.
  const CoreMappedFile* first = nullptr;
  for (const auto& f : memory.core().mapped_files())
    if (f.path == main->path && (first == nullptr || f.file_offset < first->file_offset)) first = &f;
  for (const auto& seg : exe.segments()) {
    if (seg.type != PT_LOAD) continue;
    if ((seg.offset & ~(kPage - 1)) != first->file_offset) continue;
    return first->start - (seg.vaddr & ~(kPage - 1));
  }
  return std::nullopt;
}

CoreMatch match_core_executable(const CoreMemory& memory, const symbolize::ElfFile& exe, uint64_t bias) {
  BuildIds core_ids = core_executable_build_ids(memory);
  std::string file_go = exe.go_build_id(), file_gnu = exe.gnu_build_id();
  if (!core_ids.go.empty() && !file_go.empty()) {
    if (core_ids.go == file_go) return {CoreMatch::Verdict::kMatch, "Go build id " + file_go};
    return {CoreMatch::Verdict::kMismatch, "the core has Go build id " + core_ids.go + ", the file " + file_go};
  }
  if (!core_ids.gnu.empty() && !file_gnu.empty()) {
    if (core_ids.gnu == file_gnu) return {CoreMatch::Verdict::kMatch, "GNU build id " + file_gnu};
    return {CoreMatch::Verdict::kMismatch, "the core has GNU build id " + core_ids.gnu + ", the file " + file_gnu};
  }
  // The Go linker writes .note.go.buildid into every ELF it links (cmd/link/internal/ld/elf.go), so the
  // same program's notes hold it too: notes without it are another program's (a C program, for one).
  if (core_ids.read && core_ids.go.empty() && !file_go.empty())
    return {CoreMatch::Verdict::kMismatch, "the core's executable has no Go build id" +
                                               (core_ids.gnu.empty() ? std::string() : " (GNU build id " + core_ids.gnu + ")") +
                                               ", the file has " + file_go};
  // No note in the core (coredump_filter without bit 4, or no note in the file): compare .go.buildinfo.
  if (auto vaddr = buildinfo_vaddr(exe)) {
    auto head = exe.read(*vaddr, 32);
    if (head) {
      uint64_t n = blob_size(exe, *vaddr, (*head)[15]);
      auto file_blob = exe.read(*vaddr, n);
      std::vector<uint8_t> core_blob(n);
      if (file_blob && memory.read_dumped(*vaddr + bias, core_blob)) {
        if (std::equal(core_blob.begin(), core_blob.end(), file_blob->begin()))
          return {CoreMatch::Verdict::kMatch, ".go.buildinfo bytes (no build id note in the core)"};
        return {CoreMatch::Verdict::kMismatch, "the core's .go.buildinfo differs from the file's"};
      }
    }
  }
  if (!core_ids.read) return {CoreMatch::Verdict::kUnknown, "the core holds neither the build id notes nor .go.buildinfo"};
  return {CoreMatch::Verdict::kUnknown, "no build id to compare"};
}

}  // namespace goperf::unwind

// Finding the pclntab header and runtime.firstmoduledata in an executable without symbols.
#include "symbolize/pclntab_locate.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace goperf::symbolize::detail {

namespace {

constexpr uint32_t kMagic118 = 0xfffffff0, kMagic120 = 0xfffffff1;
constexpr size_t kHeaderSize = 72;

uint64_t le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// RELATIVE relocations of a PIE or externally linked file: an address word that is 0 in the file
// holds its value in the relocation's addend (the dynamic loader writes base + addend).
class Relocations {
 public:
  explicit Relocations(const ElfFile& elf) : elf_(elf) {}

  // The word at `vaddr` as the loader would see it with a load bias of 0.
  std::optional<uint64_t> word(uint64_t vaddr) {
    auto b = elf_.read(vaddr, 8);
    if (!b) return std::nullopt;
    uint64_t v = le64(b->data());
    if (v != 0) return v;
    load();
    auto it = std::lower_bound(relocs_.begin(), relocs_.end(), std::pair<uint64_t, uint64_t>{vaddr, 0});
    if (it != relocs_.end() && it->first == vaddr) return it->second;
    return v;
  }

  // Addresses of the words whose relocation addend is `value`.
  std::vector<uint64_t> sites_of(uint64_t value) {
    load();
    std::vector<uint64_t> out;
    for (const auto& [off, addend] : relocs_)
      if (addend == value) out.push_back(off);
    return out;
  }

 private:
  void load() {
    if (loaded_) return;
    loaded_ = true;
    uint32_t relative = elf_.machine() == EM_AARCH64 ? R_AARCH64_RELATIVE : R_X86_64_RELATIVE;
    auto add_table = [&](std::span<const uint8_t> t) {
      for (size_t i = 0; i + sizeof(Elf64_Rela) <= t.size(); i += sizeof(Elf64_Rela)) {
        Elf64_Rela r;
        std::memcpy(&r, t.data() + i, sizeof r);
        uint32_t type = ELF64_R_TYPE(r.r_info);
        bool abs64 = elf_.machine() == EM_X86_64 && type == R_X86_64_64 && ELF64_R_SYM(r.r_info) == 0;
        if (type == relative || abs64) relocs_.emplace_back(r.r_offset, static_cast<uint64_t>(r.r_addend));
      }
    };
    bool any = false;
    for (const auto& s : elf_.sections()) {
      if (s.type != SHT_RELA) continue;
      any = true;
      add_table(elf_.file_bytes(s.offset, s.size));
    }
    if (!any) {  // no section headers: the dynamic segment's DT_RELA
      for (const auto& seg : elf_.segments()) {
        if (seg.type != PT_DYNAMIC) continue;
        auto dyn = elf_.file_bytes(seg.offset, seg.filesz);
        uint64_t rela = 0, relasz = 0;
        for (size_t i = 0; i + 16 <= dyn.size(); i += 16) {
          uint64_t tag = le64(dyn.data() + i), val = le64(dyn.data() + i + 8);
          if (tag == DT_NULL) break;
          if (tag == DT_RELA) rela = val;
          if (tag == DT_RELASZ) relasz = val;
        }
        if (rela && relasz)
          if (auto t = elf_.read(rela, relasz)) add_table(*t);
      }
    }
    std::sort(relocs_.begin(), relocs_.end());
  }

  const ElfFile& elf_;
  bool loaded_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> relocs_;
};

// The file-backed bytes from `vaddr` to the end of its PT_LOAD segment.
std::span<const uint8_t> rest_of_segment(const ElfFile& elf, uint64_t vaddr) {
  for (const auto& s : elf.segments()) {
    if (s.type != PT_LOAD || vaddr < s.vaddr || vaddr - s.vaddr >= s.filesz) continue;
    return elf.file_bytes(s.offset + (vaddr - s.vaddr), s.filesz - (vaddr - s.vaddr));
  }
  return {};
}

std::optional<FoundPclntab> try_at(const ElfFile& elf, uint64_t vaddr, std::span<const uint8_t> bytes,
                                   std::string_view section) {
  auto h = parse_pc_header(bytes);
  if (!h) return std::nullopt;
  FoundPclntab f;
  f.header = *h;
  f.vaddr = vaddr;
  f.bytes = bytes;
  f.section = section;
  if (f.header.text_start == 0 && f.header.magic != 0) {
    Relocations r(elf);
    if (auto v = r.word(vaddr + 24)) f.header.text_start = *v;
  }
  return f;
}

// Offsets of moduledata.textsectmap per layout, and of gofunc in the same layout
// (src/runtime/symtab.go: 1.18-1.19; 1.20-1.25 add covctrs; 1.26 adds epclntab; 1.27 adds
// typedesclen/itaboffset/itabsize and drops typelinks/itablinks).
struct GofuncLayout {
  uint64_t textsectmap, gofunc;
};
constexpr GofuncLayout kLayouts[] = {{312, 304}, {328, 320}, {336, 320}, {360, 344}};

}  // namespace

std::optional<PcHeader> parse_pc_header(std::span<const uint8_t> b) {
  if (b.size() < kHeaderSize) return std::nullopt;
  PcHeader h;
  h.magic = le32(b.data());
  if (h.magic != kMagic118 && h.magic != kMagic120) return std::nullopt;
  if (b[4] != 0 || b[5] != 0) return std::nullopt;
  h.min_lc = b[6];
  h.ptr_size = b[7];
  if ((h.min_lc != 1 && h.min_lc != 2 && h.min_lc != 4) || h.ptr_size != 8) return std::nullopt;
  h.nfunc = le64(b.data() + 8);
  h.nfiles = le64(b.data() + 16);
  h.text_start = le64(b.data() + 24);
  h.funcname_off = le64(b.data() + 32);
  h.cu_off = le64(b.data() + 40);
  h.filetab_off = le64(b.data() + 48);
  h.pctab_off = le64(b.data() + 56);
  h.pcln_off = le64(b.data() + 64);
  if (h.nfunc == 0 || h.nfunc > (1u << 26) || h.nfiles > (1u << 26)) return std::nullopt;
  if (h.funcname_off < kHeaderSize || h.cu_off < h.funcname_off || h.filetab_off < h.cu_off ||
      h.pctab_off < h.filetab_off || h.pcln_off < h.pctab_off || h.pcln_off > b.size())
    return std::nullopt;
  // functab[nfunc+1] must fit, and be sorted at its ends.
  uint64_t room = b.size() - h.pcln_off;
  if ((h.nfunc + 1) * 8 > room) return std::nullopt;
  const uint8_t* ft = b.data() + h.pcln_off;
  uint32_t first = le32(ft), last = le32(ft + h.nfunc * 8);
  if (first > last) return std::nullopt;
  for (uint64_t i = 0; i < std::min<uint64_t>(h.nfunc, 8); ++i) {
    if (le32(ft + i * 8) > le32(ft + (i + 1) * 8)) return std::nullopt;
    if (le32(ft + i * 8 + 4) >= room) return std::nullopt;
  }
  return h;
}

Result<FoundPclntab> find_pclntab(const ElfFile& elf) {
  for (std::string_view name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
    for (const auto& s : elf.sections()) {
      if (s.name != name || s.type == SHT_NOBITS) continue;
      if (auto f = try_at(elf, s.addr, elf.file_bytes(s.offset, s.size), s.name)) return *f;
    }
  }
  // Section headers gone or renamed: scan the loadable segments, read-only ones first (exe), then
  // writable ones (PIE keeps the table in the RELRO part of the data segment). The linker aligns
  // the symbol to at least 8 bytes.
  for (bool writable : {false, true}) {
    for (const auto& seg : elf.segments()) {
      if (seg.type != PT_LOAD || ((seg.flags & PF_W) != 0) != writable) continue;
      auto bytes = elf.file_bytes(seg.offset, seg.filesz);
      uint64_t start = (8 - (seg.vaddr & 7)) & 7;
      for (uint64_t off = start; off + kHeaderSize <= bytes.size(); off += 8) {
        uint32_t m = le32(bytes.data() + off);
        if (m != kMagic118 && m != kMagic120) continue;
        if (auto f = try_at(elf, seg.vaddr + off, bytes.subspan(off), "")) return *f;
      }
    }
  }
  return make_error(ErrorCode::kFormat, elf.path() + ": not a Go program (no pclntab of Go 1.18 or later)");
}

std::optional<FoundModuledata> find_moduledata(const ElfFile& elf, const FoundPclntab& tab) {
  Relocations relocs(elf);
  auto validate = [&](uint64_t v) -> std::optional<FoundModuledata> {
    auto nametab = relocs.word(v + 8);
    auto ftab_len = elf.read(v + 136, 8);
    auto text = relocs.word(v + 176);
    if (!nametab || !ftab_len || !text) return std::nullopt;
    if (*nametab != tab.vaddr + tab.header.funcname_off) return std::nullopt;
    if (le64(ftab_len->data()) != tab.header.nfunc + 1 || *text == 0) return std::nullopt;
    FoundModuledata md;
    md.vaddr = v;
    md.text = *text;
    md.findfunctab = relocs.word(v + 152).value_or(0);
    md.minpc = relocs.word(v + 160).value_or(0);
    md.maxpc = relocs.word(v + 168).value_or(0);
    for (const auto& l : kLayouts) {
      auto ptr = relocs.word(v + l.textsectmap);
      auto len = elf.read(v + l.textsectmap + 8, 16);
      if (!ptr || !len || *ptr == 0) continue;
      uint64_t n = le64(len->data()), cap = le64(len->data() + 8);
      if (n == 0 || n > 64 || n != cap) continue;
      auto sect = elf.read(*ptr, 16);
      auto base = relocs.word(*ptr + 16);
      if (!sect || !base || le64(sect->data()) != 0 || *base != md.text) continue;
      if (auto g = relocs.word(v + l.gofunc); g && !rest_of_segment(elf, *g).empty()) {
        md.gofunc = *g;
        break;
      }
    }
    if (md.gofunc == 0) {  // textsectmap unreadable: the layout implied by the magic
      uint64_t off = tab.header.magic == kMagic118 ? 304 : 320;
      if (auto g = relocs.word(v + off); g && !rest_of_segment(elf, *g).empty()) md.gofunc = *g;
    }
    return md;
  };

  // Go 1.26+ gives moduledata its own section.
  if (auto s = elf.find_section(".go.module"))
    if (auto md = validate(s->addr)) return md;
  for (const auto& seg : elf.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0) continue;
    auto bytes = elf.file_bytes(seg.offset, seg.filesz);
    uint64_t start = (8 - (seg.vaddr & 7)) & 7;
    for (uint64_t off = start; off + 8 <= bytes.size(); off += 8) {
      if (le64(bytes.data() + off) != tab.vaddr) continue;
      if (auto md = validate(seg.vaddr + off)) return md;
    }
  }
  for (uint64_t site : relocs.sites_of(tab.vaddr))
    if (auto md = validate(site)) return md;
  return std::nullopt;
}

}  // namespace goperf::symbolize::detail

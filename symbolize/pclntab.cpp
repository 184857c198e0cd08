// Pclntab: decoding in place over the mapped file; nothing is copied except the lazy name index.
// Mirrors src/runtime/symtab.go (findfunc, pcvalue, step, funcline1, funcdata) and
// src/runtime/symtabinl.go (inlineUnwinder) of Go 1.19-1.27.
#include "symbolize/pclntab.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "symbolize/elf_file.h"
#include "symbolize/pclntab_locate.h"

namespace goperf::symbolize {

namespace {

constexpr uint32_t kMagic118 = 0xfffffff0;

inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

struct Pclntab::Impl {
  std::shared_ptr<const ElfFile> elf;
  Location location;
  detail::PcHeader header;
  bool go120 = false;
  uint32_t func_fixed = 40;    // size of _func before its pcdata array
  uint32_t inl_size = 20;      // size of one inlinedCall
  uint32_t nfunc = 0;
  uint64_t text_start = 0;
  std::optional<uint64_t> moduledata;
  uint64_t gofunc = 0;
  std::span<const uint8_t> gofunc_data;  // from gofunc to the end of its segment
  std::span<const uint8_t> funcnametab, cutab, filetab, pctab, pclntable;
  size_t table_size = 0;
  // findfunctab (src/runtime/symtab.go findfunc): one 20-byte bucket per 4096 bytes of text,
  // {idx uint32, subbuckets [16]uint8}; empty when moduledata was not found or it looks wrong.
  std::span<const uint8_t> buckets;
  uint64_t minpc = 0;

  mutable std::once_flag names_once;
  mutable std::vector<uint32_t> by_name;  // function indices sorted by name

  uint32_t entryoff(uint32_t i) const { return rd32(pclntable.data() + size_t(i) * 8); }

  // The _func record of function i, or nullptr when it lies outside the table.
  const uint8_t* func_ptr(uint32_t i) const {
    uint32_t off = rd32(pclntable.data() + size_t(i) * 8 + 4);
    if (off > pclntable.size() || pclntable.size() - off < func_fixed) return nullptr;
    return pclntable.data() + off;
  }

  std::string_view cstr(std::span<const uint8_t> table, uint64_t off) const {
    if (off >= table.size()) return {};
    const char* p = reinterpret_cast<const char*>(table.data() + off);
    const void* nul = std::memchr(p, 0, table.size() - off);
    return nul ? std::string_view(p, static_cast<const char*>(nul) - p) : std::string_view();
  }

  // The `i`-th uint32 after the fixed part (pcdata then funcdata), bounds-checked.
  std::optional<uint32_t> func_word(const uint8_t* fp, uint64_t i) const {
    uint64_t off = (fp - pclntable.data()) + func_fixed + i * 4;
    if (off + 4 > pclntable.size()) return std::nullopt;
    return rd32(pclntable.data() + off);
  }

  PcValueReader reader(uint32_t off, uint64_t entry) const {
    if (off == 0 || off >= pctab.size()) return {};
    return PcValueReader(pctab.data() + off, pctab.data() + pctab.size(), entry, header.min_lc);
  }

  // pcvalue (src/runtime/symtab.go): the value of table `off` at `target`, nullopt when the table is
  // absent, ends before `target` or is malformed.
  std::optional<int32_t> pcvalue(uint32_t off, uint64_t entry, uint64_t target) const {
    PcValueReader r = reader(off, entry);
    for (PcValueRun run; r.next(run);)
      if (target < run.end) return run.value;
    return std::nullopt;
  }

  std::string_view file_name(const uint8_t* fp, int32_t fileno) const {
    uint64_t cu = rd32(fp + 32);
    uint64_t idx = (cu + uint32_t(fileno)) * 4;
    if (fileno < 0 || idx + 4 > cutab.size()) return {};
    uint32_t off = rd32(cutab.data() + idx);
    if (off == ~0u) return {};
    return cstr(filetab, off);
  }

  std::pair<std::string_view, int> file_line(const uint8_t* fp, uint64_t entry, uint64_t pc) const {
    auto fileno = pcvalue(rd32(fp + 20), entry, pc);
    auto line = pcvalue(rd32(fp + 24), entry, pc);
    if (!fileno || !line) return {{}, 0};
    return {file_name(fp, *fileno), *line};
  }

  // A lookup touches six places of a table megabytes long, each a cache miss on random pcs; asking for
  // them all at once lets the misses overlap instead of queueing behind one another.
  void prefetch_tables(const uint8_t* fp) const {
    auto pf = [](std::span<const uint8_t> t, uint64_t off) {
      if (off < t.size()) __builtin_prefetch(t.data() + off);
    };
    pf(funcnametab, rd32(fp + 4));
    pf(pctab, rd32(fp + 20));
    pf(pctab, rd32(fp + 24));
    pf(cutab, uint64_t(rd32(fp + 32)) * 4);
    uint32_t npcdata = rd32(fp + 28);
    if (npcdata > kPcdataInlTreeIndex)
      if (auto off = func_word(fp, kPcdataInlTreeIndex)) pf(pctab, *off);
    uint8_t nfuncdata = go120 ? fp[43] : fp[39];
    if (nfuncdata > kFuncdataInlTree && !gofunc_data.empty())
      if (auto off = func_word(fp, uint64_t(npcdata) + kFuncdataInlTree); off && *off != ~0u) pf(gofunc_data, *off);
  }

  FuncInfo info(uint32_t i) const {
    FuncInfo f;
    f.index = i;
    f.entry = text_start + entryoff(i);
    f.end = text_start + entryoff(i + 1);
    const uint8_t* fp = func_ptr(i);
    if (!fp) return f;
    prefetch_tables(fp);
    f.name = cstr(funcnametab, rd32(fp + 4));
    f.args = int32_t(rd32(fp + 8));
    uint8_t func_id = go120 ? fp[40] : fp[36];
    f.flag = go120 ? fp[41] : fp[37];
    f.start_line = go120 ? int32_t(rd32(fp + 36)) : 0;
    // funcIDs are positional and shift between releases: only their being non-zero is trusted, and
    // the name says which special function it is (src/internal/abi/symtab.go FuncID list).
    // The one non-zero funcID without a fixed name is FuncIDWrapper (autogenerated code).
    if (func_id != 0) {
      f.kind = func_kind_by_name(f.name);
      if (f.kind == FuncKind::kNormal) f.kind = FuncKind::kWrapper;
    } else {
      f.kind = func_kind_without_funcid(f.name);
    }
    return f;
  }
};

Pclntab::Pclntab(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pclntab::~Pclntab() = default;

Result<std::unique_ptr<Pclntab>> Pclntab::load(std::shared_ptr<const ElfFile> elf) {
  auto found = detail::find_pclntab(*elf);
  if (!found) return found.error();
  auto impl = std::make_unique<Impl>();
  const auto& h = found->header;
  impl->header = h;
  impl->location.source = found->section.empty() ? Location::Source::kScan : Location::Source::kSection;
  impl->location.section = found->section;
  impl->location.vaddr = found->vaddr;
  impl->go120 = h.magic != kMagic118;
  impl->func_fixed = impl->go120 ? 44 : 40;
  impl->inl_size = impl->go120 ? 16 : 20;
  impl->nfunc = static_cast<uint32_t>(h.nfunc);
  auto b = found->bytes;
  impl->funcnametab = b.subspan(h.funcname_off, h.cu_off - h.funcname_off);
  impl->cutab = b.subspan(h.cu_off, h.filetab_off - h.cu_off);
  impl->filetab = b.subspan(h.filetab_off, h.pctab_off - h.filetab_off);
  impl->pctab = b.subspan(h.pctab_off, h.pcln_off - h.pctab_off);
  impl->pclntable = b.subspan(h.pcln_off);
  impl->table_size = b.size();
  impl->text_start = h.text_start;
  if (auto md = detail::find_moduledata(*elf, *found)) {
    impl->moduledata = md->vaddr;
    impl->text_start = md->text;  // authoritative; pcHeader.textStart is 0 from Go 1.26 on
    impl->gofunc = md->gofunc;
    if (md->findfunctab && md->minpc >= md->text && md->maxpc > md->minpc) {
      uint64_t n = (md->maxpc - md->minpc) / 4096 + 1;
      if (auto b2 = elf->read(md->findfunctab, n * 20)) {
        impl->buckets = *b2;
        impl->minpc = md->minpc;
      }
    }
    if (md->gofunc) {
      for (const auto& s : elf->segments()) {
        if (s.type != 1 /* PT_LOAD */ || md->gofunc < s.vaddr || md->gofunc - s.vaddr >= s.filesz) continue;
        uint64_t off = md->gofunc - s.vaddr;
        impl->gofunc_data = elf->file_bytes(s.offset + off, s.filesz - off);
      }
    }
  }
  if (impl->text_start == 0) {
    // Neither moduledata nor the header says: assume Go text starts at .text (true for internal links).
    if (auto t = elf->find_section(".text")) impl->text_start = t->addr;
  }
  impl->elf = std::move(elf);
  return std::unique_ptr<Pclntab>(new Pclntab(std::move(impl)));
}

uint32_t Pclntab::magic() const { return impl_->header.magic; }
const Pclntab::Location& Pclntab::location() const { return impl_->location; }
uint64_t Pclntab::text_start() const { return impl_->text_start; }
std::optional<uint64_t> Pclntab::moduledata_vaddr() const { return impl_->moduledata; }
uint64_t Pclntab::gofunc() const { return impl_->gofunc; }
size_t Pclntab::func_count() const { return impl_->nfunc; }
size_t Pclntab::table_size() const { return impl_->table_size; }

FuncInfo Pclntab::func_at(size_t index) const {
  if (index >= impl_->nfunc) return {};
  return impl_->info(static_cast<uint32_t>(index));
}

std::optional<FuncInfo> Pclntab::find_func(uint64_t pc) const {
  const Impl& m = *impl_;
  if (pc < m.text_start) return std::nullopt;
  uint64_t off = pc - m.text_start;
  if (off >= m.entryoff(m.nfunc) || off < m.entryoff(0)) return std::nullopt;
  if (!m.buckets.empty()) {
    // The runtime's bucket index, then a short walk forward.
    uint64_t x = off + m.text_start - m.minpc;
    uint64_t b = x / 4096, sub = (x % 4096) / 256;
    if ((b + 1) * 20 <= m.buckets.size()) {
      const uint8_t* ffb = m.buckets.data() + b * 20;
      uint64_t idx = uint64_t(rd32(ffb)) + ffb[4 + sub];
      if (idx < m.nfunc && m.entryoff(uint32_t(idx)) <= off) {
        for (int steps = 0; idx + 1 < m.nfunc && m.entryoff(uint32_t(idx + 1)) <= off && steps < 4096; ++steps) ++idx;
        if (idx + 1 == m.nfunc || m.entryoff(uint32_t(idx + 1)) > off) return m.info(uint32_t(idx));
      }
    }
  }
  // Last entry with entryoff <= off: the functab is sorted, searched in place.
  uint32_t lo = 0, n = m.nfunc;
  while (n > 1) {
    uint32_t half = n / 2;
    if (m.entryoff(lo + half) <= off) lo += half;
    n -= half;
  }
  return m.info(lo);
}

std::optional<FuncInfo> Pclntab::find_func_by_name(std::string_view name) const {
  const Impl& m = *impl_;
  std::call_once(m.names_once, [&m] {
    m.by_name.resize(m.nfunc);
    std::vector<std::string_view> names(m.nfunc);
    for (uint32_t i = 0; i < m.nfunc; ++i) {
      m.by_name[i] = i;
      const uint8_t* fp = m.func_ptr(i);
      names[i] = fp ? m.cstr(m.funcnametab, rd32(fp + 4)) : std::string_view();
    }
    std::stable_sort(m.by_name.begin(), m.by_name.end(),
                     [&names](uint32_t a, uint32_t b) { return names[a] < names[b]; });
  });
  auto name_of = [&m](uint32_t i) {
    const uint8_t* fp = m.func_ptr(i);
    return fp ? m.cstr(m.funcnametab, rd32(fp + 4)) : std::string_view();
  };
  auto it = std::lower_bound(m.by_name.begin(), m.by_name.end(), name,
                             [&](uint32_t i, std::string_view n) { return name_of(i) < n; });
  if (it == m.by_name.end() || name_of(*it) != name) return std::nullopt;
  return m.info(*it);
}

std::optional<int32_t> Pclntab::sp_delta(const FuncInfo& f, uint64_t pc) const {
  if (f.index >= impl_->nfunc) return std::nullopt;
  const uint8_t* fp = impl_->func_ptr(f.index);
  if (!fp) return std::nullopt;
  return impl_->pcvalue(rd32(fp + 16), f.entry, pc);
}

std::optional<int32_t> Pclntab::pcdata(const FuncInfo& f, uint32_t table, uint64_t pc) const {
  if (f.index >= impl_->nfunc) return std::nullopt;
  const uint8_t* fp = impl_->func_ptr(f.index);
  if (!fp || table >= rd32(fp + 28)) return std::nullopt;
  auto off = impl_->func_word(fp, table);
  if (!off) return std::nullopt;
  return impl_->pcvalue(*off, f.entry, pc);
}

std::optional<uint64_t> Pclntab::funcdata(const FuncInfo& f, uint32_t index) const {
  const Impl& m = *impl_;
  if (f.index >= m.nfunc || m.gofunc == 0) return std::nullopt;
  const uint8_t* fp = m.func_ptr(f.index);
  if (!fp) return std::nullopt;
  uint8_t nfuncdata = m.go120 ? fp[43] : fp[39];
  if (index >= nfuncdata) return std::nullopt;
  auto off = m.func_word(fp, uint64_t(rd32(fp + 28)) + index);
  if (!off || *off == ~0u) return std::nullopt;
  return m.gofunc + *off;
}

std::pair<std::string_view, int> Pclntab::file_line(const FuncInfo& f, uint64_t pc) const {
  if (f.index >= impl_->nfunc) return {{}, 0};
  const uint8_t* fp = impl_->func_ptr(f.index);
  if (!fp) return {{}, 0};
  return impl_->file_line(fp, f.entry, pc);
}

PcValueReader Pclntab::reader(const FuncInfo& f, FuncTable table) const {
  if (f.index >= impl_->nfunc) return {};
  const uint8_t* fp = impl_->func_ptr(f.index);
  if (!fp) return {};
  static constexpr uint32_t kOffset[] = {16, 20, 24};  // _func.pcsp, pcfile, pcln
  return impl_->reader(rd32(fp + kOffset[static_cast<int>(table)]), f.entry);
}

PcValueReader Pclntab::pcdata_reader(const FuncInfo& f, uint32_t table) const {
  if (f.index >= impl_->nfunc) return {};
  const uint8_t* fp = impl_->func_ptr(f.index);
  if (!fp || table >= rd32(fp + 28)) return {};
  auto off = impl_->func_word(fp, table);
  return off ? impl_->reader(*off, f.entry) : PcValueReader();
}

std::span<const uint8_t> Pclntab::inline_tree(const FuncInfo& f) const {
  const Impl& m = *impl_;
  auto addr = funcdata(f, kFuncdataInlTree);
  if (!addr || m.gofunc_data.empty()) return {};
  uint64_t off = *addr - m.gofunc;
  return off < m.gofunc_data.size() ? m.gofunc_data.subspan(off) : std::span<const uint8_t>();
}

std::optional<InlinedCall> Pclntab::inlined_call(std::span<const uint8_t> tree, int32_t index) const {
  const Impl& m = *impl_;
  uint64_t at = uint64_t(uint32_t(index)) * m.inl_size;
  if (index < 0 || at + m.inl_size > tree.size()) return std::nullopt;
  const uint8_t* ic = tree.data() + at;
  InlinedCall call;
  if (m.go120) {  // funcID u8, pad[3], nameOff i32, parentPc i32, startLine i32
    call.function = m.cstr(m.funcnametab, rd32(ic + 4));
    call.parent_pc_offset = rd32(ic + 8);
    call.start_line = int32_t(rd32(ic + 12));
  } else {        // parent i16, funcID u8, pad, file i32, line i32, func_ i32, parentPc i32
    call.function = m.cstr(m.funcnametab, rd32(ic + 12));
    call.parent_pc_offset = rd32(ic + 16);
  }
  return call;
}

std::string_view Pclntab::file_name(const FuncInfo& f, int32_t fileno) const {
  if (f.index >= impl_->nfunc) return {};
  const uint8_t* fp = impl_->func_ptr(f.index);
  return fp ? impl_->file_name(fp, fileno) : std::string_view();
}

void Pclntab::frames(const FuncInfo& f, uint64_t lookup_pc, std::vector<Frame>& out) const {
  const Impl& m = *impl_;
  const uint8_t* fp = f.index < m.nfunc ? m.func_ptr(f.index) : nullptr;
  Frame phys;
  phys.pc = lookup_pc;
  phys.entry = f.entry;
  phys.function = f.name;
  phys.start_line = f.start_line;
  phys.is_go = true;
  if (!fp) {
    out.push_back(phys);
    return;
  }
  uint64_t p = lookup_pc;
  // The inline tree of the physical function (FUNCDATA_InlTree), indexed by PCDATA_InlTreeIndex.
  if (auto tree = inline_tree(f); !tree.empty()) {
    std::optional<int32_t> ix = pcdata(f, kPcdataInlTreeIndex, p);
    for (int depth = 0; ix && *ix >= 0 && depth < kMaxInlineDepth; ++depth) {
      auto call = inlined_call(tree, *ix);
      if (!call) break;
      Frame fr;
      fr.pc = lookup_pc;
      fr.entry = f.entry;
      fr.inlined = true;
      fr.is_go = true;
      fr.function = call->function;
      fr.start_line = call->start_line;
      auto [file, line] = m.file_line(fp, f.entry, p);
      fr.file = file;
      fr.line = line;
      out.push_back(fr);
      p = f.entry + call->parent_pc_offset;
      ix = pcdata(f, kPcdataInlTreeIndex, p);
    }
  }
  auto [file, line] = m.file_line(fp, f.entry, p);
  phys.file = file;
  phys.line = line;
  out.push_back(phys);
}

}  // namespace goperf::symbolize

// Locating runtime.allgs / allglen / allm in a stripped Go binary by disassembling the runtime
// functions that use them (src/runtime/proc.go allgadd, gcount, mcommoninit) and collecting their
// RIP-relative memory operands. The Go compiler addresses every global of an amd64 executable
// (exe, PIE, internally or externally linked) PC-relatively, so `target = next_pc + disp32`.
#include "unwind/runtime_globals.h"

#include <capstone/capstone.h>
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/memory.h"
#include "unwind/runtime_globals_arm64.h"

namespace goperf::unwind {
namespace {

using symbolize::ElfFile;

enum class Access : uint8_t { kLoad, kStore, kLea, kAtomic, kOther };

// One RIP-relative memory operand of an instruction.
struct Ref {
  uint64_t insn = 0;    // address of the instruction
  uint64_t target = 0;  // link-time address it refers to
  Access access = Access::kOther;
  x86_reg reg = X86_REG_INVALID;  // the register loaded (kLoad/kLea) or stored (kStore)
  uint64_t value_from = 0;  // kAtomic/kStore: the global whose loaded value is stored (0 unknown)
};

// A store `mov [base + disp], reg` (no RIP): used to see where a loaded value goes.
struct Store {
  uint64_t insn = 0;
  int64_t disp = 0;
  x86_reg src = X86_REG_INVALID;
};

struct Disassembly {
  std::vector<Ref> refs;
  std::vector<Store> stores;
};

bool writable(const ElfFile& elf, uint64_t addr) {
  for (const auto& s : elf.segments())
    if (s.type == PT_LOAD && (s.flags & PF_W) && addr >= s.vaddr && addr < s.vaddr + s.memsz) return true;
  return false;
}

// The 64-bit register that contains reg (eax -> rax), so that moves of different widths compare.
x86_reg full_reg(csh cs, x86_reg reg) {
  if (reg == X86_REG_INVALID) return reg;
  const char* name = cs_reg_name(cs, reg);
  if (!name) return reg;
  static const std::unordered_map<std::string_view, x86_reg> k32 = {
      {"eax", X86_REG_RAX}, {"ebx", X86_REG_RBX}, {"ecx", X86_REG_RCX}, {"edx", X86_REG_RDX},
      {"esi", X86_REG_RSI}, {"edi", X86_REG_RDI}, {"ebp", X86_REG_RBP}, {"esp", X86_REG_RSP},
      {"r8d", X86_REG_R8},  {"r9d", X86_REG_R9},  {"r10d", X86_REG_R10}, {"r11d", X86_REG_R11},
      {"r12d", X86_REG_R12}, {"r13d", X86_REG_R13}, {"r14d", X86_REG_R14}, {"r15d", X86_REG_R15}};
  auto it = k32.find(name);
  return it == k32.end() ? reg : it->second;
}

class Capstone {
 public:
  Capstone() {
    ok_ = cs_open(CS_ARCH_X86, CS_MODE_64, &cs_) == CS_ERR_OK;
    if (ok_) cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Capstone() {
    if (ok_) cs_close(&cs_);
  }
  Capstone(const Capstone&) = delete;
  Capstone& operator=(const Capstone&) = delete;

  // Every RIP-relative operand that points into writable data, and every register store.
  Disassembly disassemble(const ElfFile& elf, uint64_t start, uint64_t end) {
    Disassembly out;
    if (!ok_ || end <= start || end - start > (1u << 20)) return out;
    auto code = elf.read(start, end - start);
    if (!code) return out;
    const uint8_t* p = code->data();
    size_t size = code->size();
    uint64_t addr = start;
    cs_insn* insn = cs_malloc(cs_);
    // Tiny dataflow: which global a register was loaded from (MOV r, [rip+T]) or points to
    // (LEA r, [rip+T]), so that `LEA DX, allglen; XCHG CX, [DX]` counts as an atomic store to allglen
    // of the value loaded from allgs+8 (src/runtime/proc.go allgadd).
    std::unordered_map<int, uint64_t> loaded_from, points_to;
    while (size > 0) {
      if (!cs_disasm_iter(cs_, &p, &size, &addr, insn)) {  // skip an undecodable byte (padding, data)
        ++p, --size, ++addr;
        loaded_from.clear(), points_to.clear();
        continue;
      }
      const cs_x86& x = insn->detail->x86;
      std::string_view mnem = insn->mnemonic;
      bool atomic = mnem.starts_with("xchg") || mnem.starts_with("lock") || mnem.starts_with("cmpxchg");
      x86_reg dest = x.op_count > 0 && x.operands[0].type == X86_OP_REG ? full_reg(cs_, x.operands[0].reg)
                                                                        : X86_REG_INVALID;
      std::optional<std::pair<x86_reg, uint64_t>> new_load, new_lea;
      for (uint8_t i = 0; i < x.op_count; ++i) {
        const cs_x86_op& op = x.operands[i];
        if (op.type != X86_OP_MEM) continue;
        x86_reg other = X86_REG_INVALID;
        for (uint8_t j = 0; j < x.op_count; ++j)
          if (j != i && x.operands[j].type == X86_OP_REG) other = full_reg(cs_, x.operands[j].reg);
        if (op.mem.base == X86_REG_RIP) {
          Ref r;
          r.insn = insn->address;
          r.target = insn->address + insn->size + static_cast<uint64_t>(op.mem.disp);
          if (!writable(elf, r.target)) continue;
          r.reg = other;
          if (mnem == "lea") {
            r.access = Access::kLea;
            new_lea = {other, r.target};
          } else if (atomic) {
            r.access = Access::kAtomic;
          } else if (mnem.starts_with("mov") && i == 0) {
            r.access = Access::kStore;
          } else if (mnem.starts_with("mov")) {
            r.access = Access::kLoad;
            if (op.size == 8) new_load = {other, r.target};
          }
          if (r.access == Access::kAtomic || r.access == Access::kStore) {
            auto it = loaded_from.find(other);
            if (it != loaded_from.end()) r.value_from = it->second;
          }
          out.refs.push_back(r);
        } else if (op.mem.index == X86_REG_INVALID && op.mem.base != X86_REG_INVALID) {
          auto lea = points_to.find(full_reg(cs_, op.mem.base));
          if (atomic && op.mem.disp == 0 && lea != points_to.end()) {
            Ref r;
            r.insn = insn->address;
            r.target = lea->second;
            r.access = Access::kAtomic;
            r.reg = other;
            auto it = loaded_from.find(other);
            if (it != loaded_from.end()) r.value_from = it->second;
            out.refs.push_back(r);
          } else if (mnem == "mov" && i == 0 && x.op_count == 2 && x.operands[1].type == X86_OP_REG) {
            out.stores.push_back({insn->address, op.mem.disp, full_reg(cs_, x.operands[1].reg)});
          }
        }
      }
      if (mnem.starts_with("call") || mnem.starts_with("j") || mnem.starts_with("ret")) {
        loaded_from.clear(), points_to.clear();
      } else if (dest != X86_REG_INVALID) {
        loaded_from.erase(dest), points_to.erase(dest);
      }
      if (new_load) loaded_from[new_load->first] = new_load->second;
      if (new_lea) points_to[new_lea->first] = new_lea->second;
    }
    cs_free(insn, 1);
    return out;
  }

 private:
  csh cs_ = 0;
  bool ok_ = false;
};

std::optional<Disassembly> disassemble_func(Capstone& cs, const symbolize::Module& module, std::string_view name) {
  const symbolize::Pclntab* tab = module.pclntab();
  if (!tab) return std::nullopt;
  auto f = tab->find_func_by_name(name);
  if (!f) return std::nullopt;
  return cs.disassemble(module.elf(), f->entry, f->end);
}

std::set<uint64_t> targets(const Disassembly& d) {
  std::set<uint64_t> out;
  for (const auto& r : d.refs) out.insert(r.target);
  return out;
}

// allgadd: `allgs = append(allgs, gp)` touches the slice's 3 words; allglock is passed by address.
void from_allgadd(const Disassembly& d, RuntimeGlobals& g) {
  std::set<uint64_t> t = targets(d);
  for (uint64_t a : t) {
    if (t.count(a + 8) && t.count(a + 16)) {
      g.allgs = a;
      break;
    }
  }
  if (!g.allgs) {
    for (uint64_t a : t)
      if (t.count(a + 8)) {
        g.allgs = a;
        break;
      }
  }
}

// allglen and allgptr: allgadd's atomic stores (`atomic.Storeuintptr(&allglen, uintptr(len(allgs)))` and
// `atomicstorep(&allgptr, &allgs[0])`), told apart by the global their value was loaded from.
void atomics_from_allgadd(const Disassembly& d, RuntimeGlobals& g) {
  for (const auto& r : d.refs) {
    if (r.access != Access::kAtomic) continue;
    if (r.value_from == g.allgs + 8 && !g.allglen) g.allglen = r.target;
    if (r.value_from == g.allgs && !g.allgptr) g.allgptr = r.target;
  }
}

// mcommoninit: `mp.alllink = allm` loads allm and stores it into the new m; then
// `atomicstorep(&allm, mp)` stores allm (an XCHG, or its address passed to atomicstorep).
void from_mcommoninit(const Disassembly& d, RuntimeGlobals& g) {
  std::set<uint64_t> written;
  for (const auto& r : d.refs)
    if (r.access == Access::kAtomic || r.access == Access::kLea || r.access == Access::kStore) written.insert(r.target);
  for (const auto& r : d.refs) {
    if (r.access != Access::kLoad || !written.count(r.target)) continue;
    for (const auto& s : d.stores) {
      if (s.insn <= r.insn || s.insn > r.insn + 64) continue;
      if (s.src == r.reg && s.disp >= 256 && s.disp < 1024) {
        g.allm = r.target;
        g.m_alllink_offset = static_cast<uint32_t>(s.disp);
        return;
      }
    }
  }
}

// runtime.nanotime1 (assembly, src/runtime/sys_linux_amd64.s): MOVQ g_m(R14), BX; MOVQ m_vdsoPC(BX), CX;
// MOVQ m_vdsoSP(BX), DX; ... CMPQ R14, m_curg(BX).
void from_nanotime1(const ElfFile& elf, const symbolize::FuncInfo& f, RuntimeGlobals& g) {
  csh cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) return;
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
  auto code = elf.read(f.entry, std::min<uint64_t>(f.end - f.entry, 256));
  if (code) {
    const uint8_t* p = code->data();
    size_t size = code->size();
    uint64_t addr = f.entry;
    cs_insn* insn = cs_malloc(cs);
    x86_reg m_reg = X86_REG_INVALID;
    std::vector<int64_t> loads;
    while (size > 0 && cs_disasm_iter(cs, &p, &size, &addr, insn)) {
      const cs_x86& x = insn->detail->x86;
      std::string_view mnem = insn->mnemonic;
      if (x.op_count != 2) continue;
      const cs_x86_op &a = x.operands[0], &b = x.operands[1];
      if (m_reg == X86_REG_INVALID) {
        if (mnem == "mov" && a.type == X86_OP_REG && b.type == X86_OP_MEM && b.mem.base == X86_REG_R14 &&
            b.mem.index == X86_REG_INVALID) {
          m_reg = a.reg;
          g.g_m_offset = static_cast<uint32_t>(b.mem.disp);
        }
        continue;
      }
      if (mnem == "mov" && a.type == X86_OP_REG && b.type == X86_OP_MEM && b.mem.base == m_reg && loads.size() < 2)
        loads.push_back(b.mem.disp);
      if (mnem == "cmp" && !g.m_curg_offset) {
        const cs_x86_op* mem = a.type == X86_OP_MEM ? &a : b.type == X86_OP_MEM ? &b : nullptr;
        const cs_x86_op* reg = a.type == X86_OP_REG ? &a : b.type == X86_OP_REG ? &b : nullptr;
        if (mem && reg && mem->mem.base == m_reg && reg->reg == X86_REG_R14)
          g.m_curg_offset = static_cast<uint32_t>(mem->mem.disp);
      }
    }
    cs_free(insn, 1);
    if (loads.size() == 2 && loads[0] > 0 && loads[1] > 0 && loads[0] - loads[1] == 8) {
      g.m_vdso_pc_offset = static_cast<uint32_t>(loads[0]);
      g.m_vdso_sp_offset = static_cast<uint32_t>(loads[1]);
    }
  }
  cs_close(&cs);
}

// Data symbols of .symtab (runtime.allgs is an object symbol: NativeSymbols keeps functions only).
std::map<std::string_view, uint64_t> symtab_objects(const ElfFile& elf, const std::set<std::string_view>& names) {
  std::map<std::string_view, uint64_t> out;
  auto symtab = elf.find_section(".symtab");
  auto strtab = elf.find_section(".strtab");
  if (!symtab || !strtab) return out;
  auto bytes = elf.bytes();
  if (symtab->offset + symtab->size > bytes.size() || strtab->offset + strtab->size > bytes.size()) return out;
  for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= symtab->size; off += sizeof(Elf64_Sym)) {
    Elf64_Sym sym;
    std::memcpy(&sym, bytes.data() + symtab->offset + off, sizeof sym);
    if (sym.st_name >= strtab->size) continue;
    const char* s = reinterpret_cast<const char*>(bytes.data() + strtab->offset + sym.st_name);
    std::string_view name(s, strnlen(s, strtab->size - sym.st_name));
    auto it = names.find(name);
    if (it != names.end()) out[*it] = sym.st_value;
  }
  return out;
}

}  // namespace

Result<RuntimeGlobals> find_runtime_globals_without_symbols(const symbolize::Module& module) {
  const symbolize::Pclntab* tab = module.pclntab();
  if (!tab) return make_error(ErrorCode::kFormat, module.elf().path() + ": not a Go program (no pclntab)");
  if (module.elf().machine() == EM_AARCH64) return find_runtime_globals_arm64(module);
  if (module.elf().machine() != EM_X86_64)
    return make_error(ErrorCode::kUnsupported, module.elf().path() + ": locating runtime.allgs needs amd64 or arm64 code");
  RuntimeGlobals g;
  g.source = "disassembly";
  g.firstmoduledata = tab->moduledata_vaddr().value_or(0);
  Capstone cs;
  auto allgadd = disassemble_func(cs, module, "runtime.allgadd");
  if (!allgadd) return make_error(ErrorCode::kNotFound, module.elf().path() + ": runtime.allgadd not in the pclntab");
  from_allgadd(*allgadd, g);
  if (!g.allgs) return make_error(ErrorCode::kNotFound, module.elf().path() + ": runtime.allgs not found in allgadd");
  atomics_from_allgadd(*allgadd, g);
  if (!g.allglen) return make_error(ErrorCode::kNotFound, module.elf().path() + ": runtime.allglen not found");
  if (auto d = disassemble_func(cs, module, "runtime.mcommoninit")) from_mcommoninit(*d, g);
  for (std::string_view name : {"runtime.nanotime1", "runtime.nanotime1.abi0"}) {
    if (auto f = tab->find_func_by_name(name)) {
      from_nanotime1(module.elf(), *f, g);
      break;
    }
  }
  return g;
}

Result<RuntimeGlobals> find_runtime_globals(const symbolize::Module& module) {
  auto syms = symtab_objects(module.elf(), {"runtime.allgs", "runtime.allglen", "runtime.allgptr", "runtime.allm",
                                            "runtime.sched", "runtime.firstmoduledata"});
  if (syms.count("runtime.allgs") && syms.count("runtime.allglen")) {
    RuntimeGlobals g;
    g.source = "symtab";
    g.allgs = syms["runtime.allgs"];
    g.allglen = syms["runtime.allglen"];
    g.allgptr = syms.count("runtime.allgptr") ? syms["runtime.allgptr"] : 0;
    g.allm = syms.count("runtime.allm") ? syms["runtime.allm"] : 0;
    g.sched = syms.count("runtime.sched") ? syms["runtime.sched"] : 0;
    g.firstmoduledata = syms.count("runtime.firstmoduledata") ? syms["runtime.firstmoduledata"] : 0;
    if (auto found = find_runtime_globals_without_symbols(module)) {
      g.m_alllink_offset = found->m_alllink_offset;
      g.g_m_offset = found->g_m_offset;
      g.m_vdso_pc_offset = found->m_vdso_pc_offset;
      g.m_vdso_sp_offset = found->m_vdso_sp_offset;
      g.m_curg_offset = found->m_curg_offset;
    }
    return g;
  }
  return find_runtime_globals_without_symbols(module);
}

Status validate_runtime_globals(const RuntimeGlobals& globals, const Memory& memory, uint64_t load_bias,
                                const GoRuntimeLayout& layout) {
  auto ptr = memory.read_u64(globals.allgs + load_bias);
  auto len = memory.read_u64(globals.allgs + load_bias + 8);
  auto cap = memory.read_u64(globals.allgs + load_bias + 16);
  auto glen = memory.read_u64(globals.allglen + load_bias);
  if (!ptr || !len || !cap || !glen) return make_error(ErrorCode::kUnavailable, "runtime.allgs/allglen not readable");
  if (*len != *glen || *len > *cap || *len > (1u << 26) || (*len > 0 && *ptr == 0))
    return make_error(ErrorCode::kFormat, "runtime.allgs does not match runtime.allglen (len " + std::to_string(*len) +
                                              ", allglen " + std::to_string(*glen) + ")");
  if (*len == 0) return {};
  auto g0 = memory.read_u64(*ptr);
  if (!g0 || *g0 == 0) return make_error(ErrorCode::kFormat, "allgs[0] is not readable");
  auto lo = memory.read_u64(*g0 + layout.g.stack_lo);
  auto hi = memory.read_u64(*g0 + layout.g.stack_hi);
  auto goid = memory.read_u64(*g0 + layout.g.goid);
  if (!lo || !hi || !goid || *lo >= *hi || *goid != 1)
    return make_error(ErrorCode::kFormat, "allgs[0] is not the main goroutine (layout mismatch?)");
  return {};
}

// ---- waitReasonStrings -------------------------------------------------------------------------

namespace {

// R_X86_64_RELATIVE addends by link-time address: a PIE's pointers in data may only live there.
std::unordered_map<uint64_t, uint64_t> relative_relocs(const ElfFile& elf) {
  std::unordered_map<uint64_t, uint64_t> out;
  for (const auto& sec : elf.sections()) {
    if (sec.type != SHT_RELA) continue;
    auto bytes = elf.bytes();
    if (sec.offset + sec.size > bytes.size()) continue;
    for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= sec.size; off += sizeof(Elf64_Rela)) {
      Elf64_Rela r;
      std::memcpy(&r, bytes.data() + sec.offset + off, sizeof r);
      if (ELF64_R_TYPE(r.r_info) == R_X86_64_RELATIVE) out[r.r_offset] = static_cast<uint64_t>(r.r_addend);
    }
  }
  return out;
}

std::optional<std::string_view> string_at(const ElfFile& elf, uint64_t ptr, uint64_t len) {
  if (len == 0 || len > 64) return std::nullopt;
  auto b = elf.read(ptr, len);
  if (!b) return std::nullopt;
  std::string_view s(reinterpret_cast<const char*>(b->data()), len);
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  return s;
}

}  // namespace

std::vector<std::string> find_wait_reasons(const ElfFile& elf) {
  auto relocs = relative_relocs(elf);
  for (const auto& seg : elf.segments()) {
    if (seg.type != PT_LOAD || !(seg.flags & PF_W) || seg.filesz < 48) continue;
    auto data = elf.read(seg.vaddr, seg.filesz);
    if (!data) continue;
    auto word = [&](uint64_t off) {
      uint64_t v;
      std::memcpy(&v, data->data() + off, 8);
      if (v == 0) {
        auto it = relocs.find(seg.vaddr + off);
        if (it != relocs.end()) v = it->second;
      }
      return v;
    };
    for (uint64_t off = 0; off + 48 <= data->size(); off += 8) {
      // {"", 0}, {"GC assist marking", 17}, {"IO wait", 7}: lengths first (cheap), then the bytes.
      uint64_t l0, l1, l2;
      std::memcpy(&l0, data->data() + off + 8, 8);
      std::memcpy(&l1, data->data() + off + 24, 8);
      std::memcpy(&l2, data->data() + off + 40, 8);
      if (l0 != 0 || l1 != 17 || l2 != 7) continue;
      if (string_at(elf, word(off + 16), 17) != "GC assist marking" || string_at(elf, word(off + 32), 7) != "IO wait")
        continue;
      std::vector<std::string> out{""};
      for (uint64_t e = off + 16; e + 16 <= data->size(); e += 16) {
        uint64_t len;
        std::memcpy(&len, data->data() + e + 8, 8);
        auto s = string_at(elf, word(e), len);
        if (!s) break;
        out.emplace_back(*s);
      }
      return out;
    }
  }
  return {};
}

}  // namespace goperf::unwind

// find_runtime_globals_arm64: allgs and allglen from runtime.allgadd, allm from runtime.mcommoninit
// (src/runtime/proc.go), by following ADRP + ADD/LDR/STR/STLR address computations register by register.
#include "unwind/runtime_globals_arm64.h"

#include <capstone/capstone.h>
#include <elf.h>

#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::unwind {
namespace {

enum class Access : uint8_t { kAddress, kLoad, kStore, kAtomicStore };

// One access to a global: the instruction, the global's address, how, and the register loaded or stored.
struct Ref {
  uint64_t insn = 0;
  uint64_t target = 0;
  Access access = Access::kAddress;
  unsigned reg = ARM64_REG_INVALID;
};

// A store through a register that holds no global's address: `STR Rs, [Rb, #disp]` (a field of a struct).
struct FieldStore {
  uint64_t insn = 0;
  int64_t disp = 0;
  unsigned src = ARM64_REG_INVALID;
};

struct Disassembly {
  std::vector<Ref> refs;
  std::vector<FieldStore> stores;
  std::vector<std::pair<uint64_t, unsigned>> writes;  // (instruction, register it writes), in order

  // Whether reg is written by an instruction in (after, before).
  bool written_between(unsigned reg, uint64_t after, uint64_t before) const {
    for (const auto& [insn, r] : writes)
      if (r == reg && insn > after && insn < before) return true;
    return false;
  }
};

// X and W views of one register are the same register for address tracking.
unsigned full(unsigned reg) {
  if (reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30) return ARM64_REG_X0 + (reg - ARM64_REG_W0);
  return reg;
}

bool writable(const symbolize::ElfFile& elf, uint64_t addr) {
  for (const auto& s : elf.segments())
    if (s.type == PT_LOAD && (s.flags & PF_W) && addr >= s.vaddr && addr < s.vaddr + s.memsz) return true;
  return false;
}

Disassembly disassemble(const symbolize::ElfFile& elf, uint64_t start, uint64_t end) {
  Disassembly out;
  csh cs;
  if (end <= start || end - start > (1u << 20) || cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK) return out;
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
  auto code = elf.read(start, end - start);
  if (!code) {
    cs_close(&cs);
    return out;
  }
  // What each register holds, when it is a global's address: set by ADRP / ADD, dropped by any other write.
  std::array<std::optional<uint64_t>, ARM64_REG_ENDING> known{};
  cs_insn* insn = cs_malloc(cs);
  const uint8_t* p = code->data();
  size_t size = code->size();
  uint64_t pc = start;
  while (size > 0) {
    if (!cs_disasm_iter(cs, &p, &size, &pc, insn)) {  // not an instruction Capstone knows: skip its 4 bytes
      p += 4, size = size >= 4 ? size - 4 : 0, pc += 4;
      continue;
    }
    const cs_arm64& a = insn->detail->arm64;
    const unsigned dest = a.op_count > 0 && a.operands[0].type == ARM64_OP_REG ? full(a.operands[0].reg) : 0;
    std::optional<uint64_t> new_value;
    if (insn->id == ARM64_INS_ADRP && a.op_count == 2 && a.operands[1].type == ARM64_OP_IMM) {
      new_value = static_cast<uint64_t>(a.operands[1].imm);
    } else if (insn->id == ARM64_INS_ADD && a.op_count == 3 && a.operands[1].type == ARM64_OP_REG &&
               a.operands[2].type == ARM64_OP_IMM && known[full(a.operands[1].reg)]) {
      uint64_t imm = static_cast<uint64_t>(a.operands[2].imm);
      if (a.operands[2].shift.type == ARM64_SFT_LSL) imm <<= a.operands[2].shift.value;
      new_value = *known[full(a.operands[1].reg)] + imm;
      if (writable(elf, *new_value)) out.refs.push_back({insn->address, *new_value, Access::kAddress, dest});
    } else {
      for (uint8_t i = 0; i < a.op_count; i++) {
        const cs_arm64_op& op = a.operands[i];
        if (op.type != ARM64_OP_MEM || op.mem.base == ARM64_REG_INVALID || op.mem.index != ARM64_REG_INVALID) continue;
        const auto& base = known[full(op.mem.base)];
        bool store = insn->id == ARM64_INS_STR || insn->id == ARM64_INS_STLR || insn->id == ARM64_INS_STUR;
        if (!base) {
          if (insn->id == ARM64_INS_STR && a.operands[0].type == ARM64_OP_REG)
            out.stores.push_back({insn->address, op.mem.disp, full(a.operands[0].reg)});
          continue;
        }
        uint64_t target = *base + static_cast<uint64_t>(static_cast<int64_t>(op.mem.disp));
        if (!writable(elf, target)) continue;
        Access acc = insn->id == ARM64_INS_STLR ? Access::kAtomicStore : store ? Access::kStore : Access::kLoad;
        out.refs.push_back({insn->address, target, acc, dest});
      }
    }
    // Registers this instruction writes lose what they held (a load's destination, an ADD's, a call's).
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (cs_regs_access(cs, insn, read, &nread, written, &nwritten) == CS_ERR_OK)
      for (uint8_t i = 0; i < nwritten; i++) {
        known[full(written[i])].reset();
        out.writes.emplace_back(insn->address, full(written[i]));
      }
    if (insn->id == ARM64_INS_BL || insn->id == ARM64_INS_BLR) known.fill(std::nullopt);
    if (new_value && dest != 0) known[dest] = new_value;
  }
  cs_free(insn, 1);
  cs_close(&cs);
  return out;
}

std::optional<Disassembly> disassemble_func(const symbolize::Module& module, std::string_view name) {
  auto f = module.pclntab()->find_func_by_name(name);
  if (!f) return std::nullopt;
  return disassemble(module.elf(), f->entry, f->end);
}

// allgadd: `allgs = append(allgs, gp)` reaches the slice's three words; `atomic.Storeuintptr(&allglen, ...)`
// is a store-release (STLR) to a global that the function never loads, where allgptr is loaded (compared with
// &allgs[0]) before its own store.
void from_allgadd(const Disassembly& d, RuntimeGlobals& g) {
  std::set<uint64_t> t;
  for (const auto& r : d.refs) t.insert(r.target);
  for (uint64_t a : t)
    if (t.count(a + 8) && t.count(a + 16)) {
      g.allgs = a;
      break;
    }
  if (!g.allgs) return;
  std::set<uint64_t> loaded;
  for (const auto& r : d.refs)
    if (r.access == Access::kLoad) loaded.insert(r.target);
  for (const auto& r : d.refs) {
    if (r.access != Access::kAtomicStore || (r.target >= g.allgs && r.target < g.allgs + 24)) continue;
    if (loaded.count(r.target)) {
      if (!g.allgptr) g.allgptr = r.target;
    } else if (!g.allglen) {
      g.allglen = r.target;
    }
  }
}

// mcommoninit: `mp.alllink = allm` loads allm and stores it into a field of the new m, then
// `atomicstorep(unsafe.Pointer(&allm), unsafe.Pointer(mp))` writes allm.
void from_mcommoninit(const Disassembly& d, RuntimeGlobals& g) {
  // Globals this function writes or passes by address (atomicstorep's, atomicwb's argument); the assembler's
  // own ADRP + ADD into REGTMP (R27) for a plain load or store does not count.
  std::set<uint64_t> written;
  for (const auto& r : d.refs)
    if (r.access == Access::kStore || r.access == Access::kAtomicStore ||
        (r.access == Access::kAddress && r.reg != ARM64_REG_X27))
      written.insert(r.target);
  for (const auto& r : d.refs) {
    if (r.access != Access::kLoad || !written.count(r.target)) continue;
    for (const auto& s : d.stores) {
      if (s.insn <= r.insn || s.insn > r.insn + 64 || s.src != r.reg || s.disp < 256 || s.disp >= 1024) continue;
      if (d.written_between(r.reg, r.insn, s.insn)) continue;  // the stored value is no longer the global's
      g.allm = r.target;
      g.m_alllink_offset = static_cast<uint32_t>(s.disp);
      return;
    }
  }
}

}  // namespace

Result<RuntimeGlobals> find_runtime_globals_arm64(const symbolize::Module& module) {
  const std::string& path = module.elf().path();
  RuntimeGlobals g;
  g.source = "disassembly (arm64)";
  g.firstmoduledata = module.pclntab()->moduledata_vaddr().value_or(0);
  auto allgadd = disassemble_func(module, "runtime.allgadd");
  if (!allgadd) return make_error(ErrorCode::kNotFound, path + ": runtime.allgadd not in the pclntab");
  from_allgadd(*allgadd, g);
  if (!g.allgs) return make_error(ErrorCode::kNotFound, path + ": runtime.allgs not found in allgadd");
  if (!g.allglen) return make_error(ErrorCode::kNotFound, path + ": runtime.allglen not found");
  if (auto d = disassemble_func(module, "runtime.mcommoninit")) from_mcommoninit(*d, g);
  return g;
}

}  // namespace goperf::unwind

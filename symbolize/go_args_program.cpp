// go_args_program: the binary's part of src/runtime/traceback.go printArgs (constants from
// src/internal/abi/type.go TraceArgs*).
#include "symbolize/go_args_program.h"

#include <algorithm>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

namespace {

constexpr uint8_t kEndSeq = 0xff, kOffsetTooLarge = 0xfb;
constexpr size_t kMaxLen = (5 * 3 + 2) * 10 + 1;  // TraceArgsMaxLen

std::span<const uint8_t> read_some(const ElfFile& elf, uint64_t addr, size_t max) {
  for (size_t n = max; n > 0; n = n > 16 ? n / 2 : n - 1) {
    if (auto r = elf.read(addr, n)) return *r;
  }
  return {};
}

}  // namespace

GoArgsProgram go_args_program(const Module& module, const FuncInfo& f, uint64_t link_sym_pc) {
  GoArgsProgram p;
  const Pclntab* tab = module.pclntab();
  if (!tab) return p;
  auto info_addr = tab->funcdata(f, Pclntab::kFuncdataArgInfo);
  if (!info_addr) return p;
  p.prog = read_some(module.elf(), *info_addr, kMaxLen);
  if (p.prog.empty()) return p;
  for (size_t i = 0; i < p.prog.size();) {
    uint8_t o = p.prog[i++];
    if (o == kEndSeq) break;
    if (o >= kOffsetTooLarge) continue;  // the markers carry no size byte
    if (i >= p.prog.size()) break;
    p.extent = std::max<uint16_t>(p.extent, static_cast<uint16_t>(o + std::min<uint8_t>(p.prog[i++], 8)));
  }
  if (auto live_addr = tab->funcdata(f, Pclntab::kFuncdataArgLiveInfo)) {
    p.live = read_some(module.elf(), *live_addr, 256);
    if (!p.live.empty()) p.start_offset = p.live[0];
    p.live_idx = tab->pcdata(f, Pclntab::kPcdataArgLiveIndex, link_sym_pc).value_or(-1);
  }
  return p;
}

}  // namespace goperf::symbolize

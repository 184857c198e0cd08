// Reading runtime.allgs and runtime.allm the way src/runtime/proc.go forEachG and
// src/runtime/traceback.go tracebackothers do, through a Memory of a stopped process or a core.
#include "unwind/goroutine_lister.h"

#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <span>
#include <unordered_set>

#include "symbolize/elf_file.h"
#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kMaxGoroutines = 1ull << 24;  // allgs never holds more in practice; guards torn reads
constexpr size_t kMaxMs = 1 << 16;
constexpr uint64_t kMaxChunk = 1 << 20;  // bytes per batched read of g's
constexpr uint64_t kMaxGap = 8192;       // g's farther apart than this start a new read

template <typename T>
T field(std::span<const uint8_t> buf, uint32_t off) {
  T v{};
  if (off + sizeof(T) <= buf.size()) std::memcpy(&v, buf.data() + off, sizeof(T));
  return v;
}

// Bytes to read for one g / m: the struct size when measured, else past the last field goperf reads.
uint32_t g_span(const GLayout& g) {
  return g.size ? g.size : std::max({g.labels, g.startpc, g.lockedm, g.parent_goid}) + 8;
}
uint32_t m_span(const MLayout& m, uint32_t alllink) {
  return std::max({m.vdso_pc, m.vdso_sp, m.alllink, alllink, m.id, m.curg, m.throwing}) + 8;
}
uint32_t m_span(const MLayout& m, const RuntimeGlobals& g) {
  return std::max({m_span(m, g.m_alllink_offset), g.m_vdso_pc_offset + 8, g.m_vdso_sp_offset + 8});
}

std::string hex(uint64_t v) {
  char s[24];
  snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

}  // namespace

GoroutineLister::GoroutineLister(const GoRuntimeLayout& layout, const RuntimeGlobals& globals, uint64_t load_bias,
                                 std::vector<std::string> wait_reasons)
    : layout_(layout), globals_(globals), bias_(load_bias), reasons_(std::move(wait_reasons)) {}

std::string_view GoroutineLister::wait_reason(uint8_t index) const {
  if (!reasons_.empty()) return index < reasons_.size() ? std::string_view(reasons_[index]) : std::string_view();
  return index < layout_.wait_reasons.size() ? layout_.wait_reasons[index] : std::string_view();
}

GoroutineInfo GoroutineLister::parse_g(std::span<const uint8_t> buf, uint64_t g_addr) const {
  const GLayout& l = layout_.g;
  GoroutineInfo g;
  g.g_addr = g_addr;
  g.goid = field<uint64_t>(buf, l.goid);
  g.status = field<uint32_t>(buf, l.atomicstatus);
  g.wait_reason_index = field<uint8_t>(buf, l.waitreason);
  g.wait_reason = std::string(wait_reason(g.wait_reason_index));
  g.waitsince = field<int64_t>(buf, l.waitsince);
  g.sched_sp = field<uint64_t>(buf, l.sched_sp);
  g.sched_pc = field<uint64_t>(buf, l.sched_pc);
  g.sched_lr = field<uint64_t>(buf, l.sched_lr);
  g.sched_bp = field<uint64_t>(buf, l.sched_bp);
  g.sched_ctxt = field<uint64_t>(buf, l.sched_ctxt);
  g.syscallsp = field<uint64_t>(buf, l.syscallsp);
  g.syscallpc = field<uint64_t>(buf, l.syscallpc);
  g.m = field<uint64_t>(buf, l.m);
  g.lockedm = field<uint64_t>(buf, l.lockedm);
  g.gopc = field<uint64_t>(buf, l.gopc);
  g.startpc = field<uint64_t>(buf, l.startpc);
  g.parent_goid = l.parent_goid ? field<uint64_t>(buf, l.parent_goid) : 0;
  g.labels = field<uint64_t>(buf, l.labels);
  g.ancestors = field<uint64_t>(buf, l.ancestors);
  g.stack_lo = field<uint64_t>(buf, l.stack_lo);
  g.stack_hi = field<uint64_t>(buf, l.stack_hi);
  return g;
}

Result<GStack> read_g_stack(const Memory& memory, const GLayout* layout, uint64_t g_addr) {
  auto lo = memory.read_u64(g_addr + (layout ? layout->stack_lo : 0));
  if (!lo) return std::move(lo).error();
  auto hi = memory.read_u64(g_addr + (layout ? layout->stack_hi : 8));
  if (!hi) return std::move(hi).error();
  return GStack{*lo, *hi};
}

Result<GoroutineInfo> GoroutineLister::read_g(const Memory& memory, uint64_t g_addr) const {
  std::vector<uint8_t> buf(g_span(layout_.g));
  if (auto st = memory.read(g_addr, buf); !st) return std::move(st).error().with_context("reading g at " + hex(g_addr));
  return parse_g(buf, g_addr);
}

Result<std::vector<GoroutineInfo>> GoroutineLister::goroutines(const Memory& memory, bool include_dead) const {
  auto list_or = list(memory, include_dead);
  if (!list_or) return std::move(list_or).error();
  return std::move(list_or->goroutines);
}

Result<MInfo> GoroutineLister::read_m(const Memory& memory, uint64_t m_addr) const {
  const MLayout& l = layout_.m;
  std::vector<uint8_t> buf(m_span(l, globals_));
  if (auto st = memory.read(m_addr, buf); !st) return std::move(st).error().with_context("reading an m");
  MInfo m;
  m.addr = m_addr;
  m.id = field<int64_t>(buf, l.id);
  m.procid = field<uint64_t>(buf, l.procid);
  m.curg = field<uint64_t>(buf, l.curg);
  m.g0 = field<uint64_t>(buf, l.g0);
  m.gsignal = field<uint64_t>(buf, l.gsignal);
  // The binary's own nanotime1 beats the table (derived for 1.20 - 1.25).
  uint32_t vdso_sp = globals_.m_vdso_sp_offset ? globals_.m_vdso_sp_offset : l.vdso_sp;
  uint32_t vdso_pc = globals_.m_vdso_pc_offset ? globals_.m_vdso_pc_offset : l.vdso_pc;
  m.vdso_sp = vdso_sp ? field<uint64_t>(buf, vdso_sp) : 0;
  m.vdso_pc = vdso_pc ? field<uint64_t>(buf, vdso_pc) : 0;
  return m;
}

Result<std::vector<MInfo>> GoroutineLister::ms(const Memory& memory) const {
  std::vector<MInfo> out;
  if (!globals_.allm) return out;
  // The binary's own `mp.alllink = allm` store beats the table (derived for 1.20 - 1.25).
  uint32_t alllink = globals_.m_alllink_offset ? globals_.m_alllink_offset : layout_.m.alllink;
  auto head = memory.read_u64(globals_.allm + bias_);
  if (!head) return std::move(head).error().with_context("reading runtime.allm");
  std::unordered_set<uint64_t> seen;
  for (uint64_t mp = *head; mp != 0 && out.size() < kMaxMs; ) {
    if (!seen.insert(mp).second) return make_error(ErrorCode::kFormat, "runtime.allm list loops");
    auto m = read_m(memory, mp);
    if (!m) return std::move(m).error();
    out.push_back(*m);
    auto next = memory.read_u64(mp + alllink);
    if (!next) return std::move(next).error().with_context("reading m.alllink");
    mp = *next;
  }
  return out;
}

Result<GoroutineList> GoroutineLister::list(const Memory& memory, bool include_dead) const {
  GoroutineList out;
  if (auto st = list_into(memory, out, include_dead); !st) return std::move(st).error();
  return out;
}

// The allgs array and how many of its entries are g's, safe against a running allgadd as the runtime's
// own lock-free readers are (src/runtime/proc.go atomicAllG, forEachGRace): allgadd stores allgptr
// before allglen, so reading allglen first and allgptr second gives an array holding at least that
// many g's (allgs only grows; an array replaced by a larger one keeps its entries); they are used
// when allgptr is the header's array (it is the same global's value unless a grow is under way).
// Otherwise the slice header, with its array pointer read again so that a header torn by a grow is
// not used.
Result<std::pair<uint64_t, uint64_t>> GoroutineLister::read_allgs_header(const Memory& memory) const {
  uint64_t hdr = globals_.allgs + bias_;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto ptr = memory.read_u64(hdr), len = memory.read_u64(hdr + 8), cap = memory.read_u64(hdr + 16);
    if (!ptr || !len || !cap) return make_error(ErrorCode::kUnavailable, "runtime.allgs is not readable");
    if (globals_.allglen && globals_.allgptr) {
      auto n = memory.read_u64(globals_.allglen + bias_);
      auto p = memory.read_u64(globals_.allgptr + bias_);
      if (n && p && *p == *ptr && *n <= kMaxGoroutines) return std::pair{*p, *n};  // else: growing now
    }
    if (*len > *cap || *len > kMaxGoroutines || (*len != 0 && *ptr == 0))
      return make_error(ErrorCode::kFormat, "runtime.allgs looks corrupt (len " + std::to_string(*len) + ", cap " +
                                                std::to_string(*cap) + ")");
    auto again = memory.read_u64(hdr);
    if (again && *again == *ptr) return std::pair{*ptr, *len};
  }
  return make_error(ErrorCode::kUnavailable, "runtime.allgs kept changing while read");
}

Status GoroutineLister::list_into(const Memory& memory, GoroutineList& out, bool include_dead) const {
  out.goroutines.clear();
  out.ms.clear();
  out.dead = 0;
  auto header = read_allgs_header(memory);
  if (!header) return std::move(header).error();
  auto [ptr, len] = *header;
  std::vector<uint64_t> gps(len);
  if (len) {
    auto st = memory.read(ptr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(gps.data()), gps.size() * 8));
    if (!st) return std::move(st).error().with_context("reading the allgs array");
  }
  std::vector<GoroutineInfo>& gs = out.goroutines;  // in allgs order; nil and dead entries removed below
  gs.resize(gps.size());
  std::vector<bool> have(gps.size(), false);
  // The g's sit mostly side by side in the heap: read them in few large ranges (one system call
  // per range on a live process) instead of one read per g, then parse from the copies.
  const uint64_t span = g_span(layout_.g);
  std::vector<std::pair<uint64_t, uint32_t>> order(gps.size());  // (g address, allgs index), by address
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = {gps[i], i};
  std::sort(order.begin(), order.end());
  std::vector<uint8_t> chunk;
  for (size_t i = 0; i < order.size();) {
    if (order[i].first == 0) {
      ++i;
      continue;
    }
    uint64_t start = order[i].first;
    size_t j = i + 1;
    while (j < order.size() && order[j].first + span - start <= kMaxChunk && order[j].first - order[j - 1].first <= kMaxGap)
      ++j;
    uint64_t end = order[j - 1].first + span;
    chunk.resize(end - start);
    bool chunk_ok = static_cast<bool>(memory.read(start, chunk));
    for (size_t k = i; k < j; ++k) {
      auto [addr, idx] = order[k];
      if (chunk_ok) {
        gs[idx] = parse_g(std::span<const uint8_t>(chunk).subspan(addr - start, span), addr);
      } else {  // a hole in the range: fall back to the g alone
        auto g = read_g(memory, addr);
        if (!g) return std::move(g).error();
        gs[idx] = std::move(*g);
      }
      have[idx] = true;
    }
    i = j;
  }
  size_t kept = 0;
  for (size_t i = 0; i < gs.size(); ++i) {
    if (!have[i]) continue;
    if (gs[i].is_dead() && !include_dead) {
      ++out.dead;
      continue;
    }
    if (kept != i) gs[kept] = std::move(gs[i]);
    ++kept;
  }
  gs.resize(kept);
  // Layout check (go-internals 4.9): the first g is the main goroutine, goid 1, with a sane stack.
  if (!out.goroutines.empty()) {
    const GoroutineInfo& first = out.goroutines.front();
    if (first.goid != 1 || first.stack_lo >= first.stack_hi)
      return make_error(ErrorCode::kFormat, "allgs[0] is not the main goroutine (goid " + std::to_string(first.goid) +
                                                "): wrong runtime layout for this Go version?");
  }
  auto m = ms(memory);
  if (!m) return std::move(m).error();
  out.ms = std::move(*m);
  return {};
}

namespace {

// text_lo/text_hi: moduledata.minpc/maxpc (0, 0 when unknown).
bool layout_fits(const Memory& memory, const std::vector<uint64_t>& gps, const GoRuntimeLayout& layout,
                 uint64_t text_lo, uint64_t text_hi) {
  std::unordered_set<uint64_t> goids;
  RuntimeGlobals none;
  GoroutineLister lister(layout, none, 0);
  for (size_t i = 0; i < gps.size(); ++i) {
    auto g = lister.read_g(memory, gps[i]);
    if (!g) return false;
    uint32_t st = g->base_status();
    if (st > kGdeadextra || (g->status & ~uint32_t{kGscan | 0xf}) != 0) return false;
    if (i == 0 && g->goid != 1) return false;
    if (g->is_dead() || st == kGidle) continue;
    uint64_t size = g->stack_hi - g->stack_lo;
    if (g->stack_lo >= g->stack_hi || size < 2048 || (size & (size - 1)) != 0) return false;
    if (g->goid == 0 || g->goid > (1ull << 48) || !goids.insert(g->goid).second) return false;
    if (text_hi) {  // every goroutine runs a Go function, and all but main were started by a go statement
      if (g->startpc < text_lo || g->startpc >= text_hi) return false;
      if (g->goid != 1 && (g->gopc < text_lo || g->gopc > text_hi)) return false;
    }
    if (st == kGwaiting && (g->sched_sp < g->stack_lo || g->sched_sp >= g->stack_hi)) return false;
    if (st == kGwaiting && g->sched_bp != 0 && (g->sched_bp < g->stack_lo || g->sched_bp >= g->stack_hi)) return false;
  }
  return true;
}

}  // namespace

Result<LayoutChoice> verify_layout(const Memory& memory, const RuntimeGlobals& globals, uint64_t load_bias, int minor) {
  uint64_t hdr = globals.allgs + load_bias;
  auto ptr = memory.read_u64(hdr), len = memory.read_u64(hdr + 8);
  if (!ptr || !len) return make_error(ErrorCode::kUnavailable, "runtime.allgs is not readable");
  if (*len == 0 || *len > kMaxGoroutines) return make_error(ErrorCode::kFormat, "runtime.allgs is empty or corrupt");
  std::vector<uint64_t> gps(std::min<uint64_t>(*len, 64));
  if (auto st = memory.read(*ptr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(gps.data()), gps.size() * 8)); !st)
    return std::move(st).error().with_context("reading the allgs array");
  std::erase(gps, uint64_t{0});
  LayoutChoice own = layout_for_go_minor(minor);
  // moduledata.minpc/maxpc sit at the same offsets in every version (measured 1.19, 1.26, 1.27).
  uint64_t text_lo = 0, text_hi = 0;
  if (globals.firstmoduledata) {
    auto lo = memory.read_u64(globals.firstmoduledata + load_bias + own.layout->moduledata.minpc);
    auto hi = memory.read_u64(globals.firstmoduledata + load_bias + own.layout->moduledata.maxpc);
    if (lo && hi && *lo < *hi) text_lo = *lo, text_hi = *hi;
  }
  if (layout_fits(memory, gps, *own.layout, text_lo, text_hi)) return own;
  std::vector<const GoRuntimeLayout*> others;
  for (const auto& l : known_layouts())
    if (&l != own.layout) others.push_back(&l);
  std::stable_sort(others.begin(), others.end(), [&](const GoRuntimeLayout* a, const GoRuntimeLayout* b) {
    return std::abs(a->go_minor - own.layout->go_minor) < std::abs(b->go_minor - own.layout->go_minor);
  });
  for (const GoRuntimeLayout* l : others)
    if (layout_fits(memory, gps, *l, text_lo, text_hi)) return LayoutChoice{l, false};
  return make_error(ErrorCode::kFormat, "no known layout fits them, Go 1." + std::to_string(minor));
}

Result<ThreadG> current_g(const Memory& memory, const RegisterSet& regs, bool pc_in_go_code,
                          const GoRuntimeLayout& layout, const std::vector<int64_t>& tls_offsets) {
  auto check = [&](uint64_t g) -> std::optional<ThreadG> {
    if (g == 0 || (g & 7)) return std::nullopt;
    auto m = memory.read_u64(g + layout.g.m);
    if (!m || *m == 0 || (*m & 7)) return std::nullopt;
    auto g0 = memory.read_u64(*m + layout.m.g0);
    auto curg = memory.read_u64(*m + layout.m.curg);
    auto gsignal = memory.read_u64(*m + layout.m.gsignal);
    if (!g0 || !curg || !gsignal) return std::nullopt;
    ThreadG t{g, *m, *curg, ThreadG::Kind::kUser};
    if (g == *g0) t.kind = ThreadG::Kind::kG0;
    else if (g == *gsignal) t.kind = ThreadG::Kind::kGsignal;
    else if (g != *curg) return std::nullopt;
    return t;
  };
  if (pc_in_go_code)
    if (auto t = check(regs.g)) return *t;
  if (regs.tls_base) {
    for (int64_t off : tls_offsets) {
      auto g = memory.read_u64(regs.tls_base + static_cast<uint64_t>(off));
      if (!g) continue;
      if (auto t = check(*g)) return *t;
    }
  }
  return make_error(ErrorCode::kNotFound, "the thread runs no Go code (no g in R14 or TLS)");
}

}  // namespace goperf::unwind

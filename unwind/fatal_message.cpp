// Reading a fatal error's message from throw's or fatal's frame (unwind/fatal_message.h). The closure layouts,
// from src/runtime/panic.go and the compiled code (captured variables in order of first use in the closure):
//   throw (1.19 - 1.27), fatal (1.19):   {fn, s.ptr, s.len}
//   fatal (1.26, 1.27; since 1.24 by issue 69447, not verified): {fn, p, s.ptr, s.len}   p := getg()._panic
// The two fatal forms are told apart by the word after fn: the later form holds the goroutine's _panic there
// (0 or the head of g._panic), the earlier one s.ptr, a pointer to the string's bytes, which is neither.
#include "unwind/fatal_message.h"

#include <array>
#include <string_view>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"
#include "unwind/memory.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {
namespace {

// Frames walked from the crashing thread's registers: throw is a few frames below what the thread runs
// (fatalthrow, its systemstack closure, dopanic_m or crash, raise).
constexpr size_t kMaxFrames = 64;
constexpr uint64_t kMaxMessage = 4096;

Error not_found(const std::string& why) { return make_error(ErrorCode::kNotFound, why); }

// The Go function whose code holds `pc` (a return address unless `exact`), by the pclntab of its module.
std::optional<symbolize::FuncInfo> func_at(const AddressSpace& space, uint64_t pc, bool exact) {
  uint64_t at = exact ? pc : pc - 1;
  auto ref = space.find(at);
  if (!ref || ref->module == nullptr || ref->module->pclntab() == nullptr) return std::nullopt;
  return ref->module->pclntab()->find_func(ref->link_pc);
}

// Whether `word` is the entry of exactly the function `name` (a funcval's fn).
bool is_entry_of(const AddressSpace& space, uint64_t word, std::string_view name) {
  auto ref = space.find(word);
  if (!ref || ref->module == nullptr || ref->module->pclntab() == nullptr) return false;
  auto f = ref->module->pclntab()->find_func(ref->link_pc);
  return f && f->entry == ref->link_pc && f->name == name;
}

// Valid UTF-8 with no control byte other than '\n' and '\t': what the runtime's own messages are made of.
bool printable_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
      i++;
      continue;
    }
    size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || c == 0xc0 || c == 0xc1 || c > 0xf4 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; k++)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

Result<std::string> read_message(const Memory& memory, uint64_t header) {
  auto ptr = memory.read_u64(header), len = memory.read_u64(header + 8);
  if (!ptr || !len) return not_found("the closure's string cannot be read");
  if (*len == 0 || *len > kMaxMessage || *ptr == 0) return not_found("the closure's string has no plausible length");
  std::string s(*len, '\0');
  if (!memory.read(*ptr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size())))
    return not_found("the closure's string bytes cannot be read");
  if (!printable_utf8(s)) return not_found("the closure's string is not printable text");
  return s;
}

// The closure in the frame [lo, hi) of `fn` ("runtime.throw" or "runtime.fatal"), then its string.
Result<FatalMessage> read_frame(const Memory& memory, const AddressSpace& space, std::string_view fn, uint64_t lo,
                                uint64_t hi, uint64_t g, uint64_t g_panic) {
  const std::string closure = std::string(fn) + ".func1";
  for (uint64_t a = lo; a + 8 <= hi; a += 8) {
    auto w = memory.read_u64(a);
    if (!w || !is_entry_of(space, *w, closure)) continue;
    FatalMessage m;
    m.user = fn == "runtime.fatal";
    m.g = g;
    uint64_t str = a + 8;
    if (m.user) {
      auto first = memory.read_u64(a + 8);
      if (!first) return not_found("the closure cannot be read");
      if (*first == 0 || *first == g_panic) {  // {fn, p, s}: see the layouts above
        m.panic_head = *first;
        str = a + 16;
      }
    }
    auto text = read_message(memory, str);
    if (!text) return std::move(text).error();
    m.text = std::move(*text);
    return m;
  }
  return not_found(std::string("no ") + closure + " closure in its frame");
}

}  // namespace

FatalSearch fatal_search_for(const Memory& memory, const GoRuntimeLayout& layout, const RegisterSet& regs,
                             const ThreadG& thread, const GoroutineInfo* curg) {
  FatalSearch w;
  w.regs = regs;
  w.thread_g = thread.g;
  auto lo = memory.read_u64(thread.g + layout.g.stack_lo), hi = memory.read_u64(thread.g + layout.g.stack_hi);
  // Bounds that do not hold the thread's sp are not its stack's: walk unbounded rather than stop at once.
  if (lo && hi && *lo < *hi && regs.sp >= *lo && regs.sp < *hi) {
    w.thread_stack_lo = *lo;
    w.thread_stack_hi = *hi;
  }
  if (auto p = memory.read_u64(thread.g + layout.g.panic_)) w.thread_g_panic = *p;
  if (curg != nullptr && curg->g_addr != thread.g) {
    w.curg = curg->g_addr;
    w.curg_stack_lo = curg->stack_lo;
    w.curg_stack_hi = curg->stack_hi;
    if (auto p = memory.read_u64(curg->g_addr + layout.g.panic_)) w.curg_panic = *p;
    w.curg_sched.arch = regs.arch;
    w.curg_sched.pc = curg->sched_pc;
    w.curg_sched.sp = curg->sched_sp;
    w.curg_sched.fp = curg->sched_bp;
    w.curg_sched.lr = curg->sched_lr;
  }
  return w;
}

Result<FatalMessage> read_fatal_message(const Memory& memory, const AddressSpace& space, const FatalSearch& where) {
  StackWalker walker(memory, space);
  WalkOptions opt;
  opt.stack_lo = where.thread_stack_lo;
  opt.stack_hi = where.thread_stack_hi;
  if (where.curg != 0) {
    opt.switch_to = &where.curg_sched;
    opt.switch_stack_lo = where.curg_stack_lo;
    opt.switch_stack_hi = where.curg_stack_hi;
  }
  std::array<PhysicalFrame, kMaxFrames> frames;
  auto r = walker.walk(where.regs, opt, frames);
  for (size_t i = 0; i < r.count; i++) {
    const PhysicalFrame& f = frames[i];
    auto func = f.is_go ? func_at(space, f.pc, f.exact_pc) : std::nullopt;
    if (!func || (func->name != "runtime.throw" && func->name != "runtime.fatal")) continue;
    if (f.fp == 0 || f.fp <= f.sp) return not_found("the frame of " + std::string(func->name) + " has no bounds");
    const bool on_curg = where.curg != 0 && f.sp >= where.curg_stack_lo && f.sp < where.curg_stack_hi;
    return read_frame(memory, space, func->name, f.sp, f.fp, on_curg ? where.curg : where.thread_g,
                      on_curg ? where.curg_panic : where.thread_g_panic);
  }
  return not_found("no runtime.throw or runtime.fatal frame on the crashing thread");
}

}  // namespace goperf::unwind

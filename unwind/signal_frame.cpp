// Signal-frame crossing for core threads. The Go runtime installs runtime.sigreturn__sigaction (Go 1.19/1.20:
// runtime.sigreturn) as sa_restorer (src/runtime/os_linux.go setsig); the kernel pushes it as the handler's
// return address, with the ucontext right after it (signal_frame_layout.h).
#include "unwind/signal_frame.h"

#include <array>
#include <string_view>

#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"
#include "unwind/signal_frame_layout.h"
#include "unwind/stack_walker.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kScanBytes = 1024;  // sigtramp saves the host registers and reserves spill slots

symbolize::FuncKind kind_at(const AddressSpace& space, uint64_t pc) {
  auto ref = space.find(pc);
  if (!ref || ref->module->pclntab() == nullptr) return symbolize::FuncKind::kNormal;
  auto f = ref->module->pclntab()->find_func(ref->link_pc);
  return f ? f->kind : symbolize::FuncKind::kNormal;
}

// The restorer's runtime address: Go's own sa_restorer (os_linux.go setsig).
std::optional<uint64_t> go_restorer(const AddressSpace& space) {
  auto go = space.go_module();
  if (!go) return std::nullopt;
  const symbolize::Pclntab* tab = go->module->pclntab();
  std::optional<symbolize::FuncInfo> restorer = tab->find_func_by_name("runtime.sigreturn__sigaction");
  if (!restorer) restorer = tab->find_func_by_name("runtime.sigreturn");
  if (!restorer) return std::nullopt;
  return restorer->entry + go->bias;
}

// The ucontext of the handler the walk from `regs` is in. The handler's return address is the restorer (Go's
// own, or libc's __restore_rt when cgo installed the handler through sigaction(3)) and the ucontext follows
// it: at sigtramp's CFA. When the walk did not reach sigtramp, look for Go's restorer above sigtrampgo.
uint64_t find_ucontext(const Memory& memory, const AddressSpace& space, const RegisterSet& regs,
                       const SignalFrameLayout& layout, uint64_t restorer_pc) {
  std::array<PhysicalFrame, 16> frames;
  StackWalker walker(memory, space);
  auto r = walker.walk(regs, {}, frames);
  for (size_t i = 0; i < r.count; i++) {
    if (kind_at(space, frames[i].pc) == symbolize::FuncKind::kSigtramp && frames[i].fp != 0) return frames[i].fp;
  }
  for (size_t i = 0; i < r.count; i++) {
    if (kind_at(space, frames[i].pc) != symbolize::FuncKind::kSigtrampgo) continue;
    for (uint64_t a = frames[i].sp; a < frames[i].sp + kScanBytes; a += 8) {
      auto word = memory.read_u64(a);
      if (!word) break;
      if (*word == restorer_pc) return a + layout.ucontext_after_restorer();
    }
    break;
  }
  return 0;
}

}  // namespace

bool cross_signal_frame(const Memory& memory, const AddressSpace& space, RegisterSet& regs, CrossedSignal* info) {
  const SignalFrameLayout* layout = signal_frame_layout(regs.arch);
  if (layout == nullptr) return false;
  auto restorer_pc = go_restorer(space);
  if (!restorer_pc) return false;
  uint64_t uc = find_ucontext(memory, space, regs, *layout, *restorer_pc);
  if (uc == 0) return false;
  RegisterSet interrupted = regs;
  if (!layout->read_context(memory, uc, interrupted)) return false;
  regs = interrupted;
  if (info != nullptr) {
    if (auto si = layout->read_siginfo(memory, uc)) *info = *si;
  }
  return true;
}

CrossedSignal cross_signal_frames(const Memory& memory, const AddressSpace& space, RegisterSet& regs) {
  CrossedSignal crossed;
  for (int depth = 0; depth < 4 && cross_signal_frame(memory, space, regs, &crossed); depth++) {
  }
  return crossed;
}

}  // namespace goperf::unwind

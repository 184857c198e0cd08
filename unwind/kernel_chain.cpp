// Go callers from the kernel's frame-pointer walk (kernel_chain.h). The checks mirror what makes a frame
// in the runtime's traceback (traceback.go unwinder.next): a return address follows a call in a function
// of the pclntab; goexit's is the one after no call (proc.go newproc1, gostartcallfn).
#include "unwind/kernel_chain.h"

#include <algorithm>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/return_address.h"

namespace goperf::unwind {
namespace {

// One entry of the chain: a return address into Go code right after a call (or goexit's fake one), the
// function it returns into, and the call's target when the call is direct.
struct ChainCaller {
  const symbolize::Module* module = nullptr;
  symbolize::FuncInfo func;
  std::optional<uint64_t> direct_target;  // link-time entry (in `module`) of the function called

  // Whether the call is a direct one to the function at link-time `entry` of `m`.
  bool calls(const symbolize::Module* m, uint64_t entry) const { return module == m && direct_target == entry; }
};

std::optional<ChainCaller> go_caller_at(const AddressSpace& space, uint64_t ret, Arch arch) {
  if (ret < kMaxCallBytes) return std::nullopt;
  auto ref = space.find(ret - 1);
  const symbolize::Pclntab* tab = ref && ref->module ? ref->module->pclntab() : nullptr;
  auto f = tab ? tab->find_func(ref->link_pc) : std::nullopt;
  if (!f) return std::nullopt;
  // goexit's entry + PCQuantum: the return address newproc pushes under every goroutine, after no call.
  if (f->kind == symbolize::FuncKind::kGoexit) {
    if (ref->link_pc + 1 - f->entry > 4) return std::nullopt;
    return ChainCaller{ref->module, *f, std::nullopt};
  }
  const uint64_t link_ret = ref->link_pc + 1, len = std::min<uint64_t>(kMaxCallBytes, link_ret - f->entry);
  auto code = ref->module->elf().read(link_ret - len, len);
  if (!code || !follows_call(arch, *code)) return std::nullopt;
  return ChainCaller{ref->module, *f, direct_call_target(arch, *code, link_ret)};
}

bool ends_a_stack(const symbolize::FuncInfo& f) {
  return f.kind == symbolize::FuncKind::kGoexit || (f.flag & symbolize::Pclntab::kFlagTopFrame);
}

}  // namespace

std::optional<ChainFrames> callers_in_chain(const AddressSpace& space, std::span<const uint64_t> chain, Arch arch,
                                            const symbolize::Module* module, uint64_t entry,
                                            std::span<PhysicalFrame> out) {
  size_t i = 1;
  std::optional<ChainCaller> c;
  for (; i < chain.size(); ++i) {
    c = go_caller_at(space, chain[i], arch);
    if (c && c->calls(module, entry)) break;
  }
  if (i >= chain.size()) return std::nullopt;
  ChainFrames got;  // from chain[i], decoded as c: each entry is decoded once
  while (c && got.count < out.size()) {
    out[got.count] = PhysicalFrame{};
    out[got.count].pc = chain[i];
    out[got.count].is_go = true;
    ++got.count;
    if (ends_a_stack(c->func)) {
      got.root = true;
      break;
    }
    if (++i == chain.size()) break;
    const ChainCaller callee = *c;
    c = go_caller_at(space, chain[i], arch);
    // A direct call must be to the frame below: a function that keeps no frame record (an assembly
    // function with a zero-size frame) is skipped by the frame-pointer chain, and its caller with it.
    if (c && c->direct_target && !c->calls(callee.module, callee.func.entry)) break;
  }
  return got;
}

}  // namespace goperf::unwind

// arm64 frame rules on synthetic stacks over real GOARCH=arm64 builds of tests/targets/prof and prof_cgo (cgo with
// the cross compiler; every toolchain present, built through tests/integration/gotargets.py): the continuation
// after cgo from asmcgocall's saved (g, depth) (asmcgocall_frame_arm64.cpp), a vDSO caller sampled before its
// stack switch, whose caller's saved FP is below the sampled sp, and a sample in the kernel's signal-return
// trampoline (frame_rules_arm64.h).
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/return_address.h"
#include "unwind/sample_unwinder.h"
#include "unwind/stack_walker.h"
#include "tests/unit/unwind/go_targets.h"
#include "tests/unit/unwind/synthetic_stack.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kG0Stack = 0xffff80000000;  // the sampled copy: g0's stack
constexpr uint64_t kStackLo = 0x4000100000, kStackHi = 0x4000108000;  // the goroutine's stack
constexpr uint64_t kG = 0x4000050000;

// One arm64 executable (non-PIE: mapped at its link-time addresses) and its tables.
struct Arm64Binary {
  std::shared_ptr<const symbolize::Module> module;
  const symbolize::Pclntab* tab = nullptr;
  std::unique_ptr<AddressSpace> space;

  // `files`: more mappings (the vDSO).
  explicit Arm64Binary(const std::string& path, std::vector<AddressSpace::FileMapping> files = {}) {
    auto m = symbolize::Module::open(path);
    if (!m) return;
    module = *m;
    tab = module->pclntab();
    for (const auto& s : module->elf().segments()) {
      if (s.type != 1 /*PT_LOAD*/) continue;
      files.push_back({.start = s.vaddr & ~0xfffull, .end = (s.vaddr + s.memsz + 0xfff) & ~0xfffull,
                       .offset = s.offset & ~0xfffull, .path = path});
    }
    space = AddressSpace::from_file_mappings(files);
    space->set_module(path, module);
  }
  symbolize::FuncInfo func(const char* name) const {
    auto f = tab->find_func_by_name(name);
    EXPECT_TRUE(f.has_value()) << name;
    return f.value_or(symbolize::FuncInfo{});
  }
  // The return address after f's direct call (BL) to `callee`, and f's frame size there; {0, 0} if none.
  std::pair<uint64_t, int32_t> return_after_call(const symbolize::FuncInfo& f, uint64_t callee) const {
    auto code = module->elf().read(f.entry, f.end - f.entry);
    if (!code) return {0, 0};
    for (uint64_t end = 4; end <= code->size(); end += 4) {
      auto target = direct_call_target(Arch::kArm64, code->subspan(0, end), f.entry + end);
      if (target && *target == callee) return {f.entry + end, tab->sp_delta(f, f.entry + end).value_or(0)};
    }
    return {0, 0};
  }
  // A return address after any call in f where its frame is set up, and the frame size there.
  std::pair<uint64_t, int32_t> body_pc(const symbolize::FuncInfo& f) const {
    for (uint64_t pc = f.entry + 4; pc < f.end; pc += 4) {
      auto code = module->elf().read(pc - 4, 4);
      auto d = tab->sp_delta(f, pc);
      if (code && d && *d > 0 && follows_call(Arch::kArm64, *code)) return {pc, *d};
    }
    ADD_FAILURE() << f.name << " has no call";
    return {0, 0};
  }
};

// A sample at (pc, sp, fp, lr) whose stack copy is `copy` from sp, walked over b's mappings and `live` (the
// process's memory outside the copy, when given) with `live_tail_bytes` as SampleUnwinder::walk takes it.
struct Arm64Walk {
  RawSample sample;
  std::array<PhysicalFrame, 64> out{};
  SampleWalk walk;
};
Arm64Walk walk_arm64_sample(const Arm64Binary& b, const RegisterSet& at, const std::vector<uint8_t>& copy,
                            const WordMemory* live, uint64_t live_tail_bytes, std::span<const uint64_t> user_chain = {}) {
  Arm64Walk r;
  r.sample.user_chain = user_chain;
  r.sample.user_regs = at;
  r.sample.user_regs.arch = Arch::kArm64;
  r.sample.stack_base = at.sp;
  r.sample.stack = copy;
  SampleTarget target;
  target.space = b.space.get();
  target.live = live;
  SampleUnwinder unwinder;
  r.walk = unwinder.walk(r.sample, target, r.out, live_tail_bytes);
  return r;
}

std::vector<testing::BuiltTarget> prof_cgo_builds(std::string* error) {
  return testing::build_go_targets("prof_cgo", {{false, true, false}}, error, "arm64");
}

// Runs `check` on the arm64 prof_cgo build of every toolchain present, with its tables.
template <typename Check>
void for_each_prof_cgo_build(Check check) {
  std::string error;
  auto builds = prof_cgo_builds(&error);
  ASSERT_FALSE(builds.empty()) << error;
  for (const auto& t : builds) {
    SCOPED_TRACE(t.toolchain);
    Arm64Binary b(t.path);
    ASSERT_NE(b.tab, nullptr);
    check(t, b);
  }
}

// asm_arm64.s asmcgocall on g0: 0(RSP) the goroutine, 8(RSP) its depth below g.stack.hi; at that depth on the
// goroutine stack asmcgocall's own 16-byte frame, whose 0(RSP) returns into its caller. A sample in the C
// function asmcgocall called (the cgo wrapper, with a 48-byte frame whose record is at its bottom).
TEST(Arm64Walk, CgoContinuesOnTheGoroutineStackFromAsmcgocallsSavedGAndDepth) {
  for_each_prof_cgo_build([](const testing::BuiltTarget& t, const Arm64Binary& b) {
    const symbolize::NativeSymbols& syms = b.module->native_symbols();
    auto c_code = syms.find_by_name("hot_loop");
    ASSERT_TRUE(c_code) << "no hot_loop in " << t.path;
    // The assembly asmcgocall (ABI0) and, where Go code calls it through one, its ABIInternal wrapper: both
    // are runtime.asmcgocall in the pclntab, told apart by the symbol table of this unstripped build.
    auto asm_sym = syms.find_by_name("runtime.asmcgocall.abi0");
    auto wrapper_sym = syms.find_by_name("runtime.asmcgocall");
    ASSERT_TRUE(asm_sym || wrapper_sym);
    auto asmcgocall = b.tab->find_func((asm_sym ? asm_sym : wrapper_sym)->addr);
    ASSERT_TRUE(asmcgocall);
    ASSERT_EQ(asmcgocall->kind, symbolize::FuncKind::kAsmcgocall);
    // The return address after asmcgocall's BL (R1): the first BLR in it.
    uint64_t ret_into_asmcgocall = 0;
    for (uint64_t pc = asmcgocall->entry + 4; pc < asmcgocall->end && !ret_into_asmcgocall; pc += 4) {
      auto code = b.module->elf().read(pc - 4, 4);
      if (code && follows_call(Arch::kArm64, *code) && !direct_call_target(Arch::kArm64, *code, pc)) {
        ret_into_asmcgocall = pc;
      }
    }
    ASSERT_NE(ret_into_asmcgocall, 0u);
    // asmcgocall's caller: runtime.cgocall, which calls the assembly function directly (cgocall.go).
    const symbolize::FuncInfo cgocall = b.func("runtime.cgocall");
    const std::pair<uint64_t, int32_t> caller = b.return_after_call(cgocall, asmcgocall->entry);
    ASSERT_NE(caller.first, 0u) << "no direct call to asmcgocall";
    auto [pm, dm] = b.body_pc(b.func("runtime.main"));
    const uint64_t goexit = b.func("runtime.goexit").entry + 4;

    WordMemory window, live;
    const uint64_t c_fp = kG0Stack + 0x40, asm_sp = c_fp + 48, depth = 0x300;
    window.put(c_fp, 0);                        // the C frame record: g0's saved fp,
    window.put(c_fp + 8, ret_into_asmcgocall);  // the return address into asmcgocall
    window.put(asm_sp, kG);
    window.put(asm_sp + 8, depth);
    live.put(kG, kStackLo);
    live.put(kG + 8, kStackHi);
    const uint64_t gsp = kStackHi - depth, caller_sp = gsp + 16;
    live.put(gsp, caller.first);             // asmcgocall's frame: its return address into its caller
    live.put(caller_sp, pm);                 // the caller's frame returns into runtime.main
    live.put(caller_sp + caller.second, goexit);

    std::vector<uint8_t> bytes = window.bytes(kG0Stack, 4096);
    const RegisterSet at{.pc = c_code->addr + 4, .sp = kG0Stack, .fp = c_fp};
    // Without the kernel's walk of the goroutine's frames at the sample (arm64's stops where the records go
    // down from g0's stack) nothing says the goroutine is still in this call: the stack ends at asmcgocall.
    const auto alone = walk_arm64_sample(b, at, bytes, &live, 1 << 20);
    EXPECT_EQ(alone.walk.window.reason, StopReason::kSpWrite);  // asmcgocall writes SP: the copy's walk ends there
    EXPECT_EQ(alone.walk.result.count, 2u) << to_string(alone.walk.result.reason);
    EXPECT_FALSE(alone.walk.result.complete());
    // With it (a chain from a return address after a direct call to asmcgocall's caller to goexit), the
    // goroutine's frames are the chain's, after asmcgocall's caller read at the depth.
    const auto above = b.return_after_call(b.func("main._Cfunc_hot_loop"), cgocall.entry);
    ASSERT_NE(above.first, 0u) << "no direct call to runtime.cgocall in main._Cfunc_hot_loop";
    const std::vector<uint64_t> chain{c_code->addr + 4, ret_into_asmcgocall, above.first, goexit};
    const auto r = walk_arm64_sample(b, at, bytes, &live, 1 << 20, chain);
    const auto& w = r.walk;
    const auto& out = r.out;
    ASSERT_EQ(w.result.count, 5u) << to_string(w.result.reason);
    EXPECT_EQ(w.result.reason, StopReason::kTopFrame);
    EXPECT_EQ(out[1].pc, ret_into_asmcgocall);
    EXPECT_EQ(out[2].pc, caller.first);
    EXPECT_EQ(out[2].sp, caller_sp);
    EXPECT_EQ(out[3].pc, above.first);
    EXPECT_EQ(out[4].pc, goexit);
  });
}

// runtime.walltime sampled after its prologue, before it moves RSP to g0's stack (sys_linux_arm64.s): the caller's
// FP it saved at -8(RSP) is below the sampled sp, outside the copy. The walk goes on by pcsp to the root; it used
// to pass walltime's own FP up as time.now's, and vdso_caller_cfa found walltime's frame again, 512 times.
TEST(Arm64Walk, VdsoCallerBeforeItsSwitchWalksToTheRootWithoutItsCallersSavedFp) {
  for_each_prof_cgo_build([](const testing::BuiltTarget&, const Arm64Binary& b) {
    auto walltime = b.tab->find_func_by_name("runtime.walltime");
    ASSERT_TRUE(walltime);
    ASSERT_EQ(walltime->kind, symbolize::FuncKind::kVdsoCall);
    // The first pc past the prologue (the frame set up, FP = RSP - 8).
    uint64_t pc = walltime->entry;
    while (pc < walltime->end && b.tab->sp_delta(*walltime, pc).value_or(0) == 0) pc += 4;
    pc += 8;  // past the FP store and the SUB that sets it
    const int32_t dw = b.tab->sp_delta(*walltime, pc).value_or(0);
    ASSERT_GT(dw, 0);
    auto now = b.func("time.now");
    auto [pn, dn] = b.return_after_call(now, walltime->entry);
    ASSERT_NE(pn, 0u);
    auto [pm, dm] = b.body_pc(b.func("runtime.main"));
    const uint64_t goexit = b.func("runtime.goexit").entry + 4;

    WordMemory window;
    const uint64_t sp = kStackLo + 0x1000, now_sp = sp + dw, main_sp = now_sp + dn;
    window.put(sp, pn);                // walltime's saved LR
    window.put(now_sp - 8, 0);         // time.now's saved FP slot (its caller's FP)
    window.put(now_sp, pm);            // time.now's saved LR: runtime.main stands for its caller
    window.put(main_sp, goexit);
    std::vector<uint8_t> bytes = window.bytes(sp, 0x1000);
    // fp: walltime's own FP
    const auto r = walk_arm64_sample(b, {.pc = pc, .sp = sp, .fp = sp - 8}, bytes, nullptr, 0);
    const auto& w = r.walk;
    const auto& out = r.out;
    ASSERT_EQ(w.result.count, 4u) << to_string(w.result.reason);
    EXPECT_EQ(w.result.reason, StopReason::kTopFrame);
    EXPECT_EQ(out[1].pc, pn);
    EXPECT_EQ(out[1].sp, now_sp);
    EXPECT_EQ(out[2].pc, pm);
    EXPECT_EQ(out[3].pc, goexit);
  });
}

// A sample while the kernel runs rt_sigreturn for a handler that interrupted a frameless leaf (main.leaf, in
// main.mid): pc right after the vDSO trampoline's svc (arch/arm64/kernel/vdso/sigreturn.S, in a mapping of no
// file whose code is read from the process), LR at the trampoline, sp at the kernel's rt_sigframe, x29 at the
// frame record the kernel put in it ({interrupted fp, interrupted lr}). The walk takes the interrupted pc, sp
// and lr from the frame's sigcontext: main.leaf, then main.mid through LR, then main.mid's frame on the
// goroutine stack, which this copy of the signal stack does not hold. The frame record alone gave main.mid
// first (the leaf dropped) and read main.mid's frame at the wrong sp.
TEST(Arm64Walk, SignalReturnTrampolineGoesOnFromTheInterruptedRegisters) {
  std::string error;
  auto builds = testing::build_go_targets("prof", {{false, false, false}}, &error, "arm64");
  ASSERT_FALSE(builds.empty()) << error;
  constexpr uint64_t kVdso = 0xffffb0000000, kTrampoline = kVdso + 0x7bc;
  for (const auto& t : builds) {
    SCOPED_TRACE(t.toolchain);
    Arm64Binary b(t.path, {{.start = kVdso, .end = kVdso + 0x2000, .offset = 0, .path = "[vdso]"}});
    ASSERT_NE(b.tab, nullptr);
    auto leaf = b.func("main.leaf");
    ASSERT_EQ(b.tab->sp_delta(leaf, leaf.entry + 8).value_or(-1), 0) << "main.leaf has a frame";
    auto [mid_ret, dmid] = b.return_after_call(b.func("main.mid"), leaf.entry);
    ASSERT_NE(mid_ret, 0u);

    WordMemory live, window;
    live.put(kTrampoline - 4, 0xd2801168d503201full);  // nop; mov x8, #139 (__NR_rt_sigreturn)
    live.put(kTrampoline + 4, 0xd4000001ull);             // svc #0
    // rt_sigframe: siginfo (128), ucontext: uc_mcontext at 176, sigcontext: fault_address, regs[31], sp, pc.
    const uint64_t frame = kG0Stack + 0x800, regs = frame + 128 + 176 + 8, record = frame + 0x1200;
    const uint64_t goroutine_sp = kStackLo + 0x2000, goroutine_fp = goroutine_sp + 0x100;
    window.put(regs + 29 * 8, goroutine_fp);
    window.put(regs + 30 * 8, mid_ret);
    window.put(regs + 31 * 8, goroutine_sp);
    window.put(regs + 32 * 8, leaf.entry + 8);
    window.put(record, goroutine_fp);
    window.put(record + 8, mid_ret);
    std::vector<uint8_t> bytes = window.bytes(frame, 0x2000);
    const auto r = walk_arm64_sample(b, {.pc = kTrampoline + 8, .sp = frame, .fp = record, .lr = kTrampoline},
                                     bytes, &live, 0);
    const auto& w = r.walk;
    const auto& out = r.out;
    ASSERT_GE(w.result.count, 3u) << to_string(w.result.reason);
    EXPECT_EQ(out[0].pc, r.sample.user_regs.pc);
    EXPECT_EQ(out[1].pc, leaf.entry + 8);
    EXPECT_TRUE(out[1].exact_pc);
    EXPECT_EQ(out[1].sp, goroutine_sp);
    EXPECT_EQ(out[2].pc, mid_ret);
    EXPECT_EQ(w.result.count, 3u);
    EXPECT_EQ(w.result.reason, StopReason::kUnreadable);
  }
}

}  // namespace
}  // namespace goperf::unwind

// choose_walk_start (unwind/goroutine_walk_start.h): where a goroutine's walk starts, as the runtime's
// traceback.go initAt/traceback1 choose it, and a walk from a thread on g0 back to its goroutine.
#include "unwind/goroutine_walk_start.h"

#include <gtest/gtest.h>

#include "tests/unit/unwind/synthetic_stack.h"
#include "unwind/go_runtime_layout.h"

namespace goperf::unwind {
namespace {

const GoRuntimeLayout& layout() { return *layout_for_go_minor(19).layout; }

GoroutineInfo parked() {
  GoroutineInfo g;
  g.status = kGwaiting;
  g.sched_pc = 0x401000;
  g.sched_sp = 0xc000100800;
  g.sched_bp = 0xc000100900;
  g.stack_lo = 0xc000100000;
  g.stack_hi = 0xc000108000;
  return g;
}

TEST(ChooseWalkStart, ParkedGoroutineStartsAtGSched) {
  WordMemory mem;
  GoroutineWalkStart w;
  choose_walk_start(parked(), nullptr, nullptr, mem, layout(), w);
  EXPECT_TRUE(w.walkable);
  EXPECT_FALSE(w.on_thread);
  EXPECT_FALSE(w.options.innermost_exact);  // g.sched.pc is a return address
  EXPECT_EQ(w.start.pc, 0x401000u);
  EXPECT_EQ(w.start.sp, 0xc000100800u);
  EXPECT_EQ(w.start.fp, 0xc000100900u);
  EXPECT_EQ(w.options.stack_lo, 0xc000100000u);
  EXPECT_EQ(w.options.stack_hi, 0xc000108000u);
  EXPECT_EQ(w.options.switch_to, nullptr);
}

// gogo's caller left no pc: the return address is the word at sp (traceback.go initAt, "pc == 0").
TEST(ChooseWalkStart, ParkedGoroutineWithoutPcTakesTheReturnAddressAtSp) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.sched_pc = 0;
  mem.put(g.sched_sp, 0x402000);
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, nullptr, mem, layout(), w);
  EXPECT_EQ(w.start.pc, 0x402000u);
  EXPECT_EQ(w.start.sp, g.sched_sp + 8);
}

// initAt: "if gp.syscallsp != 0 { pc, sp = gp.syscallpc, gp.syscallsp }", with no frame pointer.
TEST(ChooseWalkStart, GoroutineInASyscallStartsAtItsSyscallState) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.status = kGsyscall;
  g.syscallpc = 0x403000;
  g.syscallsp = 0xc000100700;
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, nullptr, mem, layout(), w);
  EXPECT_EQ(w.start.pc, 0x403000u);
  EXPECT_EQ(w.start.sp, 0xc000100700u);
  EXPECT_EQ(w.start.fp, 0u);
  EXPECT_FALSE(w.on_thread);
}

// traceback1: a VDSO call in progress on the goroutine's m (m.vdsoSP != 0) starts at m.vdsoPC/SP.
TEST(ChooseWalkStart, GoroutineInTheVdsoStartsAtItsMsVdsoState) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.status = kGsyscall;
  g.syscallpc = 0x403000;
  g.syscallsp = 0xc000100700;
  MInfo m;
  m.vdso_pc = 0x404000;
  m.vdso_sp = 0xc000100600;
  GoroutineWalkStart w;
  choose_walk_start(g, &m, nullptr, mem, layout(), w);
  EXPECT_EQ(w.start.pc, 0x404000u);
  EXPECT_EQ(w.start.sp, 0xc000100600u);
}

TEST(ChooseWalkStart, RunningGoroutineOnAnUnknownThreadIsNotWalked) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.status = kGrunning;
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, nullptr, mem, layout(), w);
  EXPECT_FALSE(w.walkable);
}

TEST(ChooseWalkStart, GoroutineOnItsOwnThreadStartsAtTheThreadsRegisters) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.status = kGrunning;
  RegisterSet regs;
  regs.pc = 0x405000;
  regs.sp = 0xc000100100;
  GoroutineThread thread{&regs, ThreadG{g.g_addr, 0, g.g_addr, ThreadG::Kind::kUser}};
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, &thread, mem, layout(), w);
  EXPECT_TRUE(w.on_thread);
  EXPECT_TRUE(w.options.innermost_exact);
  EXPECT_EQ(w.start.pc, 0x405000u);
  EXPECT_EQ(w.options.switch_to, nullptr);
}

// A goroutine in a syscall whose thread is on its own stack is walked from the syscall state, as the
// runtime does (its registers are in the kernel).
TEST(ChooseWalkStart, GoroutineInASyscallOnItsThreadStartsAtItsSyscallState) {
  WordMemory mem;
  GoroutineInfo g = parked();
  g.status = kGsyscall;
  g.syscallpc = 0x403000;
  g.syscallsp = 0xc000100700;
  RegisterSet regs;
  regs.pc = 0x405000;
  GoroutineThread thread{&regs, ThreadG{g.g_addr, 0, g.g_addr, ThreadG::Kind::kUser}};
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, &thread, mem, layout(), w);
  EXPECT_FALSE(w.on_thread);
  EXPECT_EQ(w.start.pc, 0x403000u);
}

// On g0 or gsignal: the thread's registers on that g's stack (bounded by it when sp is inside), then the
// switch to the goroutine's saved state: g.sched, or g.syscall{pc,sp} in a syscall or cgo call.
TEST(ChooseWalkStart, ThreadOnG0OrGsignalSwitchesToTheGoroutinesSavedState) {
  for (auto kind : {ThreadG::Kind::kG0, ThreadG::Kind::kGsignal}) {
    for (bool in_syscall : {false, true}) {
      WordMemory mem;
      const uint64_t g0 = 0xc000200000;
      mem.put(g0 + layout().g.stack_lo, 0xc000300000);
      mem.put(g0 + layout().g.stack_hi, 0xc000310000);
      GoroutineInfo g = parked();
      g.status = in_syscall ? kGsyscall : kGrunning;
      g.syscallpc = 0x403000;
      g.syscallsp = 0xc000100700;
      if (!in_syscall) g.syscallsp = 0;
      RegisterSet regs;
      regs.pc = 0x405000;
      regs.sp = 0xc000308000;
      GoroutineThread thread{&regs, ThreadG{g0, 0, g.g_addr, kind}};
      GoroutineWalkStart w;
      choose_walk_start(g, nullptr, &thread, mem, layout(), w);
      SCOPED_TRACE(testing::Message() << "kind " << int(kind) << " syscall " << in_syscall);
      EXPECT_TRUE(w.on_thread);
      EXPECT_EQ(w.start.pc, 0x405000u);
      EXPECT_EQ(w.options.stack_lo, 0xc000300000u);
      EXPECT_EQ(w.options.stack_hi, 0xc000310000u);
      ASSERT_EQ(w.options.switch_to, &w.switch_target);
      EXPECT_EQ(w.switch_target.pc, in_syscall ? 0x403000u : 0x401000u);
      EXPECT_EQ(w.switch_target.sp, in_syscall ? 0xc000100700u : 0xc000100800u);
      EXPECT_EQ(w.switch_target.fp, in_syscall ? 0u : 0xc000100900u);
      EXPECT_EQ(w.options.switch_stack_lo, g.stack_lo);
      EXPECT_EQ(w.options.switch_stack_hi, g.stack_hi);
    }
  }
}

TEST(ChooseWalkStart, SpOutsideTheSystemStacksBoundsWalksUnbounded) {
  // Above the stack (an alternate signal stack the runtime did not allocate), and below it.
  for (uint64_t sp : {uint64_t{0x7ffc00001000}, uint64_t{0xc0002ff000}}) {
    WordMemory mem;
    const uint64_t gsignal = 0xc000200000;
    mem.put(gsignal + layout().g.stack_lo, 0xc000300000);
    mem.put(gsignal + layout().g.stack_hi, 0xc000310000);
    GoroutineInfo g = parked();
    g.status = kGrunning;
    RegisterSet regs;
    regs.sp = sp;
    GoroutineThread thread{&regs, ThreadG{gsignal, 0, g.g_addr, ThreadG::Kind::kGsignal}};
    GoroutineWalkStart w;
    choose_walk_start(g, nullptr, &thread, mem, layout(), w);
    EXPECT_EQ(w.options.stack_lo, 0u) << std::hex << sp;
    EXPECT_EQ(w.options.stack_hi, 0u) << std::hex << sp;
  }
}

// The walk from such a start: g0's frames, then the goroutine's, through systemstack.
using WalkStartOnG0Test = SyntheticStackTest;
TEST_F(WalkStartOnG0Test, WalkFromG0ReachesTheGoroutinesFrames) {
  auto [pf, df] = body_pc(func("runtime.(*mheap).alloc.func1"));
  auto [pss, dss] = body_pc(func("runtime.systemstack"));
  auto [pc_, dc] = body_pc(func("runtime.(*mheap).alloc"));
  auto [pm, dm] = body_pc(func("runtime.main"));
  WordMemory mem;
  const uint64_t g0 = 0xc000200000, g0sp = 0xc000308000;
  mem.put(g0 + layout().g.stack_lo, 0xc000300000);
  mem.put(g0 + layout().g.stack_hi, 0xc000310000);
  mem.put(g0sp + df, pss);
  GoroutineInfo g = parked();
  g.status = kGrunning;
  g.sched_pc = func("runtime.systemstack_switch").entry + 8;
  g.sched_sp = 0xc000104000;
  mem.put(g.sched_sp + dss, pc_);
  mem.put(g.sched_sp + dss + 8 + dc, pm);
  mem.put(g.sched_sp + dss + 8 + dc + 8 + dm, func("runtime.goexit").entry + 1);
  RegisterSet regs;
  regs.pc = pf;
  regs.sp = g0sp;
  GoroutineThread thread{&regs, ThreadG{g0, 0, g.g_addr, ThreadG::Kind::kG0}};
  GoroutineWalkStart w;
  choose_walk_start(g, nullptr, &thread, mem, layout(), w);
  StackWalker walker(mem, *space_);
  PhysicalFrame out[16];
  auto r = walker.walk(w.start, w.options, out);
  ASSERT_EQ(r.count, 5u) << to_string(r.reason);
  EXPECT_EQ(r.reason, StopReason::kTopFrame);
  EXPECT_EQ(out[2].pc, pc_);
  EXPECT_TRUE(out[2].after_switch);
}

}  // namespace
}  // namespace goperf::unwind

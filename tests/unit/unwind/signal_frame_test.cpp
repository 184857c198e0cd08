// cross_signal_frame (unwind/signal_frame.h) on a synthetic core thread that died in the Go signal handler:
// the handler's frames, the kernel's rt_sigframe above sigtramp (signal_frame_layout_amd64.cpp).
#include "unwind/signal_frame.h"

#include <gtest/gtest.h>

#include "tests/unit/unwind/synthetic_stack.h"

namespace goperf::unwind {
namespace {

using SignalFrameTest = SyntheticStackTest;

// x86_64 struct rt_sigframe: restorer, then ucontext (uc_mcontext 40 bytes in: r8..r15, rdi, rsi, rbp,
// rbx, rdx, rax, rcx, rsp, rip), then siginfo at 304.
TEST_F(SignalFrameTest, HandlerThreadIsShownFromTheInterruptedContext) {
  auto [pgo, dgo] = body_pc(func("runtime.sigtrampgo"));
  auto [ptramp, dtramp] = body_pc(func("runtime.sigtramp"));
  WordMemory mem;
  const uint64_t sp0 = 0xc000400000, sp1 = sp0 + dgo + 8, uc = sp1 + dtramp + 8;
  mem.put(sp0 + dgo, ptramp);
  mem.put(sp1 + dtramp, func("runtime.sigreturn").entry);
  mem.zero(uc, 304 + 32);
  mem.put(uc + 40 + 6 * 8, 0xc000000777);    // r14: g
  mem.put(uc + 40 + 10 * 8, 0xc000100900);   // rbp
  mem.put(uc + 40 + 15 * 8, 0xc000100800);   // rsp
  mem.put(uc + 40 + 16 * 8, 0x401234);       // rip
  mem.put(uc + 304, 11);                     // si_signo SIGSEGV, si_errno 0
  mem.put(uc + 304 + 8, 1);                  // si_code SEGV_MAPERR
  mem.put(uc + 304 + 16, 0xdead);            // si_addr
  RegisterSet regs;
  regs.pc = pgo;
  regs.sp = sp0;
  CrossedSignal info;
  ASSERT_TRUE(cross_signal_frame(mem, *space_, regs, &info));
  EXPECT_EQ(regs.pc, 0x401234u);
  EXPECT_EQ(regs.sp, 0xc000100800u);
  EXPECT_EQ(regs.fp, 0xc000100900u);
  EXPECT_EQ(regs.g, 0xc000000777u);
  EXPECT_EQ(info.signo, 11);
  EXPECT_EQ(info.code, 1);
  EXPECT_EQ(info.addr, 0xdeadu);
}

TEST_F(SignalFrameTest, ThreadOutsideTheHandlerIsLeftAlone) {
  auto [pa, da] = body_pc(func("runtime.gopark"));
  WordMemory mem;
  mem.put(0xc000400000 + da, func("runtime.goexit").entry + 1);
  RegisterSet regs;
  regs.pc = pa;
  regs.sp = 0xc000400000;
  RegisterSet before = regs;
  EXPECT_FALSE(cross_signal_frame(mem, *space_, regs));
  EXPECT_EQ(regs.pc, before.pc);
  EXPECT_EQ(regs.sp, before.sp);
}

}  // namespace
}  // namespace goperf::unwind

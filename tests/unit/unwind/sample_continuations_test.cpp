// SampleUnwinder's continuations (unwind/sample_continuations.h) and the walker's vDSO frame, on synthetic
// stacks over a real Go 1.19 binary (synthetic_stack.h): after cgo, from g0 to m.curg, after the vDSO.
#include <gtest/gtest.h>

#include "unwind/go_runtime_layout.h"
#include "unwind/sample_unwinder.h"
#include "unwind/stack_walker.h"
#include "tests/unit/unwind/synthetic_stack.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kWindow = 0xc000200000;  // the sampled copy (g0's stack, or a thread's)
constexpr uint64_t kGoroutineStackLo = 0xc000100000, kGoroutineStackHi = 0xc000108000;

class SampleContinuationsTest : public SyntheticStackTest {
 protected:
  // A sample whose copy is window_ words from kWindow up, with these registers.
  SampleWalk unwind(const RegisterSet& regs, const GoRuntimeLayout* layout = nullptr,
                    std::span<const uint64_t> user_chain = {}) {
    bytes_ = window_.bytes(kWindow, 4096);
    RawSample s;
    s.user_regs = regs;
    s.stack_base = kWindow;
    s.stack = bytes_;
    s.user_chain = user_chain;
    SampleTarget target;
    target.space = space_.get();
    target.live = &live_;
    target.layout = layout;
    return unwinder_.walk(s, target, out_, 1 << 20);
  }
  // A direct call to `callee` inside one of these functions: the return address after it.
  uint64_t return_after_call_to(const symbolize::FuncInfo& callee, std::initializer_list<const char*> callers) {
    for (const char* name : callers) {
      auto f = tab_->find_func_by_name(name);
      if (!f) continue;
      auto code = module_->elf().read(f->entry, f->end - f->entry);
      if (!code) continue;
      for (uint64_t end = 5; end <= code->size(); ++end) {
        auto target = direct_call_target(Arch::kAmd64, code->subspan(0, end), f->entry + end);
        if (target && *target == callee.entry) return f->entry + end;
      }
    }
    return 0;
  }
  // The goroutine stack above sp: a frame of `f` returning into runtime.main, then goexit.
  void goroutine_frames_from(uint64_t sp, uint64_t pc_in_f) {
    auto f = tab_->find_func(pc_in_f - 1);
    ASSERT_TRUE(f.has_value());
    int32_t d = tab_->sp_delta(*f, pc_in_f).value_or(0);
    auto [pm, dm] = body_pc(func("runtime.main"));
    live_.put(sp + d, pm);
    live_.put(sp + d + 8 + dm, func("runtime.goexit").entry + 1);
  }

  WordMemory window_, live_;
  std::vector<uint8_t> bytes_;
  SampleUnwinder unwinder_;
  std::array<PhysicalFrame, 64> out_{};
};

// asm_amd64.s asmcgocall: the C call's frame holds the goroutine's depth below g.stack.hi and the g; at that
// depth, the return address into cgocall. cgocall's callers come from the kernel's frame-pointer walk at the
// sample (RawSample::user_chain): whole, or a part the goroutine's stack read later must agree with.
class CgoContinuationTest : public SampleContinuationsTest {
 protected:
  void SetUp() override {
    SampleContinuationsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::tie(pa_, da_) = body_pc(func("runtime.gopark"));  // gopark stands for the C function asmcgocall called
    std::tie(pcgo_, std::ignore) = body_pc(func("runtime.asmcgocall"));
    std::tie(pcall_, dcall_) = body_pc(func("runtime.cgocall"));
    const uint64_t sp1 = kWindow + da_ + 8, g = 0xc000050000;
    window_.put(kWindow + da_, pcgo_);
    window_.put(sp1, kDepth);
    window_.put(sp1 + 8, g);
    live_.put(g, kGoroutineStackLo);
    live_.put(g + 8, kGoroutineStackHi);
    live_.put(gsp_, pcall_);
    // A caller of cgocall (a cgo wrapper calls it directly), its return address after that call.
    calls_cgocall_ = return_after_call_to(func("runtime.cgocall"),
                                          {"net._C2func_getaddrinfo", "net._Cfunc_getaddrinfo", "os/user._Cfunc_mygetpwuid_r",
                                           "net._C2func_getnameinfo", "runtime.cgocall"});
    ASSERT_NE(calls_cgocall_, 0u);
  }
  // The live goroutine stack above cgocall's frame: cgocall returns into `caller`, which returns into goexit.
  void live_caller(uint64_t caller) {
    auto f = tab_->find_func(caller - 1);
    ASSERT_TRUE(f.has_value());
    const uint64_t caller_sp = gsp_ + 8 + dcall_ + 8;
    live_.put(gsp_ + 8 + dcall_, caller);
    live_.put(caller_sp + tab_->sp_delta(*f, caller).value_or(0), goexit());
  }
  SampleWalk unwind_with(std::vector<uint64_t> chain) {
    chain_ = std::move(chain);
    RegisterSet regs;
    regs.pc = pa_;
    regs.sp = kWindow;
    return unwind(regs, nullptr, chain_);
  }
  uint64_t goexit() { return func("runtime.goexit").entry + 1; }

  static constexpr uint64_t kDepth = 0x400;
  const uint64_t gsp_ = kGoroutineStackHi - kDepth;
  uint64_t pa_ = 0, pcgo_ = 0, pcall_ = 0, calls_cgocall_ = 0;
  int32_t da_ = 0, dcall_ = 0;
  std::vector<uint64_t> chain_;
};

TEST_F(CgoContinuationTest, CallersFromTheKernelWalkAtTheSample) {
  goroutine_frames_from(gsp_ + 8, pcall_);  // what the goroutine's stack holds later: another caller
  auto w = unwind_with({pa_, 0x1234, calls_cgocall_, goexit()});
  EXPECT_EQ(w.window.reason, StopReason::kSpWrite);
  ASSERT_EQ(w.result.count, 5u) << to_string(w.result.reason);
  EXPECT_EQ(w.result.reason, StopReason::kTopFrame);
  EXPECT_EQ(out_[1].pc, pcgo_);
  EXPECT_EQ(out_[2].pc, pcall_);
  EXPECT_EQ(out_[2].sp, gsp_ + 8);
  EXPECT_EQ(out_[3].pc, calls_cgocall_);
  EXPECT_EQ(out_[4].pc, goexit());
}

TEST_F(CgoContinuationTest, WithoutTheKernelWalkTheStackEndsAtAsmcgocall) {
  live_caller(calls_cgocall_);  // a goroutine stack that would walk: nothing says it is the sample's
  auto w = unwind_with({});
  EXPECT_EQ(w.result.count, 2u) << to_string(w.result.reason);
  EXPECT_FALSE(w.result.complete());
}

TEST_F(CgoContinuationTest, AChainCutShortIsCompletedLiveOnlyWhereTheyAgree) {
  live_caller(calls_cgocall_);
  auto agree = unwind_with({pa_, calls_cgocall_});  // no root: cut at perf_event_max_stack
  ASSERT_EQ(agree.result.count, 5u) << to_string(agree.result.reason);
  EXPECT_EQ(out_[3].pc, calls_cgocall_);
  EXPECT_EQ(out_[4].pc, goexit());
  // The goroutine has returned from the call and made another from elsewhere since the sample.
  goroutine_frames_from(gsp_ + 8, pcall_);
  auto moved = unwind_with({pa_, calls_cgocall_});
  EXPECT_EQ(moved.result.count, 2u) << to_string(moved.result.reason);
  EXPECT_FALSE(moved.result.complete());
}

// A depth larger than the goroutine's stack: the pair is no asmcgocall frame's, whatever lies there.
TEST_F(SampleContinuationsTest, CgoPairThatDoesNotFitTheGoroutineStackIsNotFollowed) {
  auto [pa, da] = body_pc(func("runtime.gopark"));
  auto [pcgo, dcgo] = body_pc(func("runtime.asmcgocall"));
  auto [pcall, dcall] = body_pc(func("runtime.cgocall"));
  const uint64_t sp1 = kWindow + da + 8, g = 0xc000050000, depth = 0x10000;
  window_.put(kWindow + da, pcgo);
  window_.put(sp1, depth);
  window_.put(sp1 + 8, g);
  live_.put(g, kGoroutineStackLo);
  live_.put(g + 8, kGoroutineStackHi);
  const uint64_t gsp = kGoroutineStackHi - depth;  // below the stack: frames that would walk
  live_.put(gsp, pcall);
  goroutine_frames_from(gsp + 8, pcall);
  RegisterSet regs;
  regs.pc = pa;
  regs.sp = kWindow;
  auto w = unwind(regs);
  EXPECT_EQ(w.result.count, 2u);
  EXPECT_EQ(w.result.reason, StopReason::kSpWrite);
}

class CurgSwitchTest : public SampleContinuationsTest {
 protected:
  // g0 -> m -> curg, curg parked in systemstack (gosave_systemstack_switch) at gsp; returns the g0.
  uint64_t threads_and_goroutine(const GoRuntimeLayout& l, uint64_t gsp, uint64_t m_g0_override = 0) {
    const uint64_t g0 = 0xc000060000, m = 0xc000070000, curg = 0xc000080000;
    live_.zero(g0, 1024);
    live_.zero(m, 2048);
    live_.zero(curg, 1024);
    live_.put(g0 + l.g.m, m);
    live_.put(m + l.m.g0, m_g0_override ? m_g0_override : g0);
    live_.put(m + l.m.curg, curg);
    live_.put(curg + l.g.sched_sp, gsp);
    live_.put(curg + l.g.sched_pc, func("runtime.systemstack_switch").entry + 8);
    live_.put(curg + l.g.stack_lo, kGoroutineStackLo);
    live_.put(curg + l.g.stack_hi, kGoroutineStackHi);
    return g0;
  }
  // A sample in `closure`, run by systemstack on g0, for a goroutine whose first frame is in `caller`.
  SampleWalk sample_on_g0(const char* closure, const char* caller, uint64_t m_g0_override = 0) {
    const GoRuntimeLayout& l = *layout_for_go_minor(19).layout;
    auto [pf, df] = body_pc(func(closure));
    auto [pss, dss] = body_pc(func("runtime.systemstack"));
    auto [pc_, dc] = body_pc(func(caller));
    window_.put(kWindow + df, pss);
    const uint64_t gsp = kGoroutineStackLo + 0x1000;
    live_.put(gsp + dss, pc_);  // systemstack's caller's return address, on top of the goroutine stack
    goroutine_frames_from(gsp + dss + 8, pc_);
    RegisterSet regs;
    regs.pc = pf;
    regs.sp = kWindow;
    regs.g = threads_and_goroutine(l, gsp, m_g0_override);
    caller_pc_ = pc_;
    return unwind(regs, &l);
  }
  uint64_t caller_pc_ = 0;
};

// traceback.go unwindJumpStack: from systemstack on g0 to m.curg.sched.
TEST_F(CurgSwitchTest, SystemStackSampleContinuesOnMCurg) {
  auto w = sample_on_g0("runtime.(*mheap).alloc.func1", "runtime.(*mheap).alloc");
  EXPECT_EQ(w.window.reason, StopReason::kSpWrite);
  ASSERT_EQ(w.result.count, 5u) << to_string(w.result.reason);
  EXPECT_TRUE(w.result.complete());
  EXPECT_EQ(out_[2].pc, caller_pc_);
  EXPECT_TRUE(out_[2].after_switch);
  EXPECT_EQ(w.switched, 1u);
}

TEST_F(CurgSwitchTest, GoroutineThatIsNotTheClosuresCallerIsNotJoined) {
  auto w = sample_on_g0("runtime.(*mheap).alloc.func1", "runtime.gopark");
  EXPECT_EQ(w.result.count, 2u);
  EXPECT_EQ(w.switched, 0u);
}

TEST_F(CurgSwitchTest, MWhoseG0IsAnotherGIsNotFollowed) {
  auto w = sample_on_g0("runtime.(*mheap).alloc.func1", "runtime.(*mheap).alloc", 0xc000099000);
  EXPECT_EQ(w.result.count, 2u);
}

class VdsoTest : public SampleContinuationsTest {
 protected:
  // A pc of the vDSO caller past its prologue (its frame is on the goroutine stack, BP points there).
  uint64_t nanotime1_past_prologue() {
    auto f = func("runtime.nanotime1");
    EXPECT_EQ(f.kind, symbolize::FuncKind::kVdsoCall);
    for (uint64_t pc = f.entry; pc < f.end; ++pc)
      if (tab_->sp_delta(f, pc).value_or(0) > 8) return pc;
    ADD_FAILURE() << "nanotime1 has no frame";
    return 0;
  }
  // A sample in nanotime1 on g0's stack (BP on the goroutine stack, which the copy does not hold), with
  // the kernel's frame-pointer walk `chain` (the sampled pc first). `live_` holds, where the frame record
  // is, a stale stack that would complete: it must not be read.
  SampleWalk sample_in_nanotime1(std::vector<uint64_t> chain) {
    const uint64_t bp = kGoroutineStackLo + 0x2000;
    auto [stale, d] = body_pc(func("runtime.gopark"));
    live_.put(bp, bp + 0x100);
    live_.put(bp + 8, stale);
    goroutine_frames_from(bp + 16, stale);
    RegisterSet regs;
    regs.pc = nanotime1_past_prologue();
    regs.sp = kWindow;
    regs.fp = bp;
    chain.insert(chain.begin(), regs.pc);
    chain_ = std::move(chain);
    return unwind(regs, nullptr, chain_);
  }
  uint64_t runtime_main_return() { return body_pc(func("runtime.main")).first; }
  uint64_t goexit_return() { return func("runtime.goexit").entry + 1; }
  std::vector<uint64_t> chain_;
};

// The perf backend's copy holds g0's stack only: the vDSO caller's callers come from the kernel's
// frame-pointer walk at the sample, from the first return address after a call to the vDSO caller.
constexpr std::initializer_list<const char*> kNanotimeCallers = {
    "runtime.nanotime", "runtime.sysmon", "runtime.checkTimers", "runtime.findrunnable", "runtime.schedule",
    "runtime.stealWork", "runtime.main", "runtime.entersyscall_sysmon", "runtime.startTheWorldWithSema"};

TEST_F(VdsoTest, CallersOfTheVdsoCallerComeFromTheKernelWalkAtTheSample) {
  // runtime.main reads the clock itself (runtimeInitTime = nanotime()): nanotime1 <- runtime.main <- goexit.
  uint64_t ret = return_after_call_to(func("runtime.nanotime1"), {"runtime.main"});
  if (ret == 0) GTEST_SKIP() << "no direct call to runtime.nanotime1 in runtime.main";
  auto [into_nanotime1, d] = body_pc(func("runtime.nanotime1"));  // the vDSO's own frame record, first
  for (auto chain : {std::vector<uint64_t>{ret, goexit_return()},
                     std::vector<uint64_t>{kVdsoBase + 0x200, into_nanotime1, ret, goexit_return()}}) {
    auto w = sample_in_nanotime1(chain);
    EXPECT_EQ(w.window.reason, StopReason::kUnreadable);
    ASSERT_EQ(w.result.count, 3u) << to_string(w.result.reason);
    EXPECT_TRUE(w.result.complete());
    EXPECT_EQ(out_[1].pc, ret);
    EXPECT_EQ(out_[2].pc, goexit_return());
  }
}

// A direct call in the chain must be to the frame below it: a frame-pointer chain that skips a frame (an
// assembly function keeping no frame record, and its caller with it) is not taken.
TEST_F(VdsoTest, ChainThatSkipsAFrameIsNotTaken) {
  uint64_t ret = return_after_call_to(func("runtime.nanotime1"), {"runtime.nanotime", "runtime.sysmon", "runtime.checkTimers"});
  if (ret == 0) GTEST_SKIP() << "no direct call to runtime.nanotime1 outside runtime.main";
  // A return address in runtime.main after a direct call to something other than ret's function.
  uint64_t in_main = return_after_call_to(func("runtime.gopark"), {"runtime.main"});
  if (in_main == 0) GTEST_SKIP() << "no direct call to runtime.gopark in runtime.main";
  auto w = sample_in_nanotime1({ret, in_main, goexit_return()});
  EXPECT_EQ(w.result.count, 1u);
  EXPECT_EQ(w.result.reason, StopReason::kUnreadable);
}

// Without the kernel's walk nothing is read later from the process (whose stale frames would complete).
TEST_F(VdsoTest, NoKernelWalkNoFramesAboveTheVdsoCaller) {
  auto w = sample_in_nanotime1({});
  EXPECT_EQ(w.result.count, 1u);
  EXPECT_EQ(w.result.reason, StopReason::kUnreadable);
}

TEST_F(VdsoTest, ReturnAddressAfterACallToAnotherFunctionIsNotTaken) {
  auto [other, d] = body_pc(func("runtime.gopark"));  // follows a call, but not to nanotime1
  auto w = sample_in_nanotime1({other, runtime_main_return(), goexit_return()});
  EXPECT_EQ(w.result.count, 1u);
  EXPECT_EQ(w.result.reason, StopReason::kUnreadable);
}

// A chain that leaves Go code (a frame pointer that is no frame record: an address in read-only data) or
// ends short of goexit adds nothing: the stack ends above the vDSO caller, not in guessed frames.
TEST_F(VdsoTest, ChainOutsideGoCodeOrShortOfARootIsNotTaken) {
  uint64_t ret = return_after_call_to(func("runtime.nanotime1"), kNanotimeCallers);
  if (ret == 0) GTEST_SKIP() << "no direct call to runtime.nanotime1 found";
  uint64_t rodata = 0;  // in the executable's read-only data segment (mapped, not code)
  for (const auto& seg : module_->elf().segments())
    if (seg.type == 1 /*PT_LOAD*/ && (seg.flags & 1 /*PF_X*/) == 0 && seg.vaddr > 0x400000 && rodata == 0) rodata = seg.vaddr + 0x40;
  ASSERT_NE(rodata, 0u);
  for (auto chain : {std::vector<uint64_t>{ret, rodata, goexit_return()}, std::vector<uint64_t>{ret, runtime_main_return()}}) {
    auto w = sample_in_nanotime1(chain);
    EXPECT_EQ(w.result.count, 1u);
    EXPECT_EQ(w.result.reason, StopReason::kUnreadable);
  }
}

// A vDSO function interrupted before it set up its frame: the return address into the vDSO caller is at
// sp, or above the frame pointer it just pushed (sys_linux_amd64.s nanotime1 calls it with CALL AX).
TEST_F(VdsoTest, VdsoLeafReturnsIntoTheVdsoCaller) {
  auto [ret, d] = body_pc(func("runtime.nanotime1"));
  for (bool pushed : {false, true}) {
    WordMemory mem;
    const uint64_t sp = kWindow, bp = kGoroutineStackLo + 0x2000;
    if (pushed) mem.put(sp, bp);
    mem.put(pushed ? sp + 8 : sp, ret);
    RegisterSet regs;
    regs.pc = kVdsoBase + 0x100;
    regs.sp = sp;
    regs.fp = bp;
    StackWalker walker(mem, *space_);
    PhysicalFrame frames[4];
    auto r = walker.walk(regs, {}, frames);
    ASSERT_GE(r.count, 2u) << "pushed " << pushed << ": " << to_string(r.reason);
    EXPECT_FALSE(frames[0].is_go);
    EXPECT_EQ(frames[1].pc, ret) << "pushed " << pushed;
    EXPECT_EQ(frames[1].sp, (pushed ? sp + 8 : sp) + 8);
  }
}

}  // namespace
}  // namespace goperf::unwind

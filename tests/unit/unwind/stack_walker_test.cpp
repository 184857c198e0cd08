// StackWalker on synthetic stacks laid over a real stripped Go binary (Debian's etcdctl, Go 1.19):
// the pclntab is real, the stack words are made up so that each expected rule is exercised.
#include "unwind/stack_walker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"
#include "unwind/pc_info_cache.h"
#include "unwind/return_address.h"
#include "tests/unit/unwind/synthetic_stack.h"

namespace goperf::unwind {
namespace {

using StackWalkerTest = SyntheticStackTest;

TEST_F(StackWalkerTest, WalksPcspFramesToGoexit) {
  auto a = func("runtime.gopark"), b = func("main.main"), c = func("runtime.main"), x = func("runtime.goexit");
  auto [pa, da] = body_pc(a);
  auto [pb, db] = body_pc(b);
  auto [pc_, dc] = body_pc(c);
  ASSERT_GT(da, 0);
  WordMemory mem;
  uint64_t sp0 = 0xc000100000;
  mem.put(sp0 + da, pb);
  uint64_t sp1 = sp0 + da + 8;
  mem.put(sp1 + db, pc_);
  uint64_t sp2 = sp1 + db + 8;
  mem.put(sp2 + dc, x.entry + 1);
  mem.put(sp2 + dc + 8, 0);

  RegisterSet regs;
  regs.pc = pa;
  regs.sp = sp0;
  StackWalker walker(mem, *space_);
  PhysicalFrame out[16];
  auto r = walker.walk(regs, WalkOptions{}, out);
  ASSERT_EQ(r.count, 4u) << to_string(r.reason);
  EXPECT_EQ(r.reason, StopReason::kTopFrame);
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(out[0].pc, pa);
  EXPECT_TRUE(out[0].exact_pc);
  EXPECT_EQ(out[1].pc, pb);
  EXPECT_FALSE(out[1].exact_pc);
  EXPECT_EQ(out[1].sp, sp1);
  EXPECT_EQ(out[2].pc, pc_);
  EXPECT_EQ(out[3].pc, x.entry + 1);
  EXPECT_TRUE(out[3].is_go);
  EXPECT_EQ(out[0].fp, sp1);  // the caller's sp
}

TEST_F(StackWalkerTest, PcInfoCacheGivesTheSameFramesAndIsHitOnTheNextWalk) {
  // A Go stack ending in a C-looking frame pointer chain: Go frames (pcsp), then a pc in no mapping.
  auto a = func("runtime.gopark"), b = func("main.main"), c = func("runtime.main"), x = func("runtime.goexit");
  auto [pa, da] = body_pc(a);
  auto [pb, db] = body_pc(b);
  auto [pc_, dc] = body_pc(c);
  WordMemory mem;
  uint64_t sp0 = 0xc000300000;
  mem.put(sp0 + da, pb);
  uint64_t sp1 = sp0 + da + 8;
  mem.put(sp1 + db, pc_);
  uint64_t sp2 = sp1 + db + 8;
  mem.put(sp2 + dc, x.entry + 1);
  RegisterSet regs;
  regs.pc = pa;
  regs.sp = sp0;
  PhysicalFrame plain[16], cached[16];
  auto r0 = StackWalker(mem, *space_).walk(regs, WalkOptions{}, plain);
  PcInfoCache cache;
  StackWalker walker(mem, *space_, &cache);
  for (int round = 0; round < 2; ++round) {
    auto r = walker.walk(regs, WalkOptions{}, cached);
    ASSERT_EQ(r.count, r0.count);
    EXPECT_EQ(r.reason, r0.reason);
    for (size_t i = 0; i < r.count; ++i) {
      EXPECT_EQ(cached[i].pc, plain[i].pc) << i;
      EXPECT_EQ(cached[i].sp, plain[i].sp) << i;
      EXPECT_EQ(cached[i].fp, plain[i].fp) << i;
      EXPECT_EQ(cached[i].exact_pc, plain[i].exact_pc) << i;
      EXPECT_EQ(cached[i].is_go, plain[i].is_go) << i;
    }
  }
  EXPECT_EQ(cache.misses(), r0.count);  // the first walk looked every pc up once
  EXPECT_EQ(cache.hits(), r0.count);    // the second walk found all of them
  // A pc in no mapping is cached as such and still stops the walk.
  regs.pc = 0x10;
  auto unknown = walker.walk(regs, WalkOptions{}, cached);
  auto again = walker.walk(regs, WalkOptions{}, cached);
  EXPECT_EQ(unknown.reason, StopReason::kUnknownPc);
  EXPECT_EQ(again.reason, StopReason::kUnknownPc);
  EXPECT_EQ(again.count, unknown.count);
}

TEST_F(StackWalkerTest, FramelessLeafDoesNotHideItsCaller) {
  // At a function's entry nothing is pushed: the return address is at *sp (pcsp 0). A frame-pointer
  // walk would skip the caller here; the pcsp walk must not.
  auto a = func("runtime.gopark"), b = func("main.main"), x = func("runtime.goexit");
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t sp0 = 0xc000200000;
  mem.put(sp0, pb);
  mem.put(sp0 + 8 + db, x.entry + 1);
  RegisterSet regs;
  regs.pc = a.entry;
  regs.sp = sp0;
  regs.fp = 0xdead0;  // garbage frame pointer: must not matter for Go frames
  PhysicalFrame out[8];
  auto r = StackWalker(mem, *space_).walk(regs, WalkOptions{}, out);
  ASSERT_EQ(r.count, 3u) << to_string(r.reason);
  EXPECT_EQ(out[1].pc, pb);
  EXPECT_EQ(out[2].pc, x.entry + 1);
}

TEST_F(StackWalkerTest, StopsWhenFullOrUnreadable) {
  auto a = func("runtime.gopark"), b = func("main.main");
  auto [pa, da] = body_pc(a);
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t sp0 = 0xc000300000;
  mem.put(sp0 + da, pb);  // nothing above main.main's frame: unreadable
  RegisterSet regs;
  regs.pc = pa;
  regs.sp = sp0;
  PhysicalFrame out[8];
  StackWalker walker(mem, *space_);
  auto r = walker.walk(regs, WalkOptions{}, out);
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(r.reason, StopReason::kUnreadable);
  EXPECT_FALSE(r.complete());
  auto one = walker.walk(regs, WalkOptions{}, std::span<PhysicalFrame>(out, 1));
  EXPECT_EQ(one.count, 1u);
  EXPECT_EQ(one.reason, StopReason::kFull);
}

TEST_F(StackWalkerTest, SystemstackSwitchesToTheGoroutineStack) {
  // A thread on g0 inside runtime.systemstack: the walk continues at the return address saved on
  // top of the goroutine stack (curg.sched.sp), as traceback.go's unwindJumpStack does.
  auto g0fn = func("runtime.gcStart"), ss = func("runtime.systemstack"), b = func("main.main"),
       x = func("runtime.goexit");
  auto [pg, dg] = body_pc(g0fn);
  auto ss_pc = ss.entry + 1;  // the return address of its CALL DI (fn on g0's stack)
  while (ss_pc < ss.end && (tab_->sp_delta(ss, ss_pc).value_or(-1) != 0 || !after_call(ss, ss_pc))) ++ss_pc;
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t g0sp = 0x7f0000001000, gsp = 0xc000400000;
  mem.put(g0sp + dg, ss_pc);
  mem.put(gsp, pb);  // systemstack's caller's return address, at curg.sched.sp
  mem.put(gsp + 8 + db, x.entry + 1);
  RegisterSet regs, target;
  regs.pc = pg;
  regs.sp = g0sp;
  target.pc = func("runtime.systemstack_switch").entry + 8;
  target.sp = gsp;
  WalkOptions opt;
  opt.switch_to = &target;
  PhysicalFrame out[8];
  auto r = StackWalker(mem, *space_).walk(regs, opt, out);
  ASSERT_EQ(r.count, 4u) << to_string(r.reason);
  EXPECT_EQ(out[1].pc, ss_pc);
  EXPECT_EQ(out[2].pc, pb);
  EXPECT_TRUE(out[2].after_switch);
  EXPECT_EQ(r.reason, StopReason::kTopFrame);

  WalkOptions no_switch;
  auto stopped = StackWalker(mem, *space_).walk(regs, no_switch, out);
  EXPECT_NE(stopped.reason, StopReason::kTopFrame);

  // The runtime's profiler jumps at systemstack too: the same walk where only its jump points switch.
  opt.switch_only_where_runtime_does = true;
  auto again = StackWalker(mem, *space_).walk(regs, opt, out);
  ASSERT_EQ(again.count, 4u) << to_string(again.reason);
  EXPECT_EQ(out[2].pc, pb);
}

TEST_F(StackWalkerTest, McallSwitchesOnlyWhenAsked) {
  // g0 in a function mcall called: a snapshot follows the goroutine mcall saved; a CPU profile that
  // matches runtime/pprof's stops there (traceback.go jumps at systemstack and morestack only).
  auto g0fn = func("runtime.park_m"), mc = func("runtime.mcall"), b = func("main.main"), x = func("runtime.goexit");
  auto [pg, dg] = body_pc(g0fn);
  auto [pm, dm] = body_pc(mc);
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t g0sp = 0x7f0000001000, gsp = 0xc000400000;
  mem.put(g0sp + dg, pm);
  mem.put(g0sp + dg + 8 + dm, 0);
  mem.put(gsp + db, x.entry + 1);
  RegisterSet regs, target;
  regs.pc = pg;
  regs.sp = g0sp;
  target.pc = pb;
  target.sp = gsp;
  WalkOptions opt;
  opt.switch_to = &target;
  PhysicalFrame out[8];
  auto r = StackWalker(mem, *space_).walk(regs, opt, out);
  ASSERT_EQ(r.reason, StopReason::kTopFrame) << to_string(r.reason);
  EXPECT_EQ(out[r.count - 2].pc, pb);
  opt.switch_only_where_runtime_does = true;
  auto only = StackWalker(mem, *space_).walk(regs, opt, out);
  for (size_t i = 0; i < only.count; ++i) EXPECT_NE(out[i].pc, pb) << i;
  // runtime/pprof's traceback ends at mcall (SPWRITE): a root, so the stack counts as complete.
  EXPECT_EQ(only.reason, StopReason::kMcall);
  EXPECT_TRUE(only.complete());
  EXPECT_EQ(out[only.count - 1].pc, pm);
}

TEST_F(StackWalkerTest, UnwalkableCodeLeadsBackToTheGoroutineOnlyWhenAskedAndSaysSo) {
  // A sample in code on g0 that no walk can unwind (here: in no module): a sample's walk, which switches
  // only where the runtime's profiler jumps, stops there; with switch_after_unwalkable_c it goes on from the
  // goroutine's saved state, and the first frame there says that frames were skipped below it.
  auto b = func("main.main"), x = func("runtime.goexit");
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t gsp = 0xc000400000;
  mem.put(gsp + db, x.entry + 1);
  RegisterSet regs, target;
  regs.pc = 0x1000;
  regs.sp = 0x7f0000001000;
  target.pc = pb;
  target.sp = gsp;
  WalkOptions opt;
  opt.switch_to = &target;
  opt.switch_only_where_runtime_does = true;
  PhysicalFrame out[8];
  auto stopped = StackWalker(mem, *space_).walk(regs, opt, out);
  EXPECT_EQ(stopped.reason, StopReason::kUnknownPc) << to_string(stopped.reason);
  opt.switch_after_unwalkable_c = true;
  auto r = StackWalker(mem, *space_).walk(regs, opt, out);
  ASSERT_EQ(r.reason, StopReason::kTopFrame) << to_string(r.reason);
  ASSERT_EQ(r.count, 3u);
  EXPECT_FALSE(out[0].after_gap);
  EXPECT_EQ(out[1].pc, pb);
  EXPECT_TRUE(out[1].after_gap);
  EXPECT_TRUE(out[1].after_switch);
  EXPECT_FALSE(out[2].after_gap);
}

// runtime.nanotime1 calls the vDSO on g0's stack after its prologue (sys_linux_amd64.s): the sample's sp
// is on g0, the vDSO caller's frame on the goroutine's stack, where BP points. The stack the walk starts
// on has bounds; the goroutine's is elsewhere.
class VdsoCallTest : public StackWalkerTest {
 protected:
  void SetUp() override {
    StackWalkerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    nanotime1_ = func("runtime.nanotime1");
    ASSERT_EQ(nanotime1_.kind, symbolize::FuncKind::kVdsoCall);
    std::tie(call_ret_, call_delta_) = body_pc(nanotime1_);
    ASSERT_GT(call_delta_, 8);
    std::tie(main_pc_, main_delta_) = body_pc(func("main.main"));
    goexit_ = func("runtime.goexit").entry + 1;
    // The goroutine's stack: nanotime1's frame (saved BP, return address into main.main), then main.main's.
    mem_.put(kCallerBp, 0);
    mem_.put(kCallerBp + 8, main_pc_);
    mem_.put(kCallerBp + 16 + main_delta_, goexit_);
    // The vDSO: an executable mapping no module covers.
    std::vector<AddressSpace::FileMapping> files;
    for (const auto& s : module_->elf().segments()) {
      if (s.type != 1) continue;
      files.push_back({s.vaddr & ~0xfffull, (s.vaddr + s.memsz + 0xfff) & ~0xfffull, s.offset & ~0xfffull, kBinary});
    }
    files.push_back({kVdso, kVdso + 0x2000, 0, "[vdso]"});
    space_ = AddressSpace::from_file_mappings(files);
    space_->set_module(kBinary, module_);
  }
  WalkResult walk_from(uint64_t pc, uint64_t sp, uint64_t fp, const WalkOptions& opt = {}) {
    RegisterSet regs;
    regs.pc = pc;
    regs.sp = sp;
    regs.fp = fp;
    return StackWalker(mem_, *space_).walk(regs, opt, out_);
  }
  // The frames from out_[first] on: the vDSO caller, then the goroutine's main.main and goexit.
  void expect_goroutine_frames(const WalkResult& r, size_t first) {
    ASSERT_EQ(r.count, first + 3) << to_string(r.reason);
    EXPECT_EQ(r.reason, StopReason::kTopFrame);
    EXPECT_EQ(out_[first].pc, call_ret_);
    EXPECT_EQ(out_[first + 1].pc, main_pc_);
    EXPECT_EQ(out_[first + 1].sp, kCallerBp + 16);
    EXPECT_EQ(out_[first + 2].pc, goexit_);
  }

  static constexpr uint64_t kVdso = 0x7fff00000000, kG0Sp = 0x7f0000001000, kCallerBp = 0xc000400ff0;
  symbolize::FuncInfo nanotime1_;
  uint64_t call_ret_ = 0, main_pc_ = 0, goexit_ = 0;
  int32_t call_delta_ = 0, main_delta_ = 0;
  WordMemory mem_;
  PhysicalFrame out_[8];
};

TEST_F(VdsoCallTest, FramedVdsoFunctionLeadsToTheGoroutineStack) {
  uint64_t vdso_fp = kG0Sp + 32;
  mem_.put(vdso_fp, kCallerBp);      // the vDSO function's saved BP: nanotime1's
  mem_.put(vdso_fp + 8, call_ret_);  // and its return address into nanotime1
  WalkOptions opt;
  opt.stack_lo = kG0Sp - 0x1000;
  opt.stack_hi = kG0Sp + 0x1000;
  auto r = walk_from(kVdso + 0x100, kG0Sp, vdso_fp, opt);
  EXPECT_EQ(out_[0].pc, kVdso + 0x100);
  expect_goroutine_frames(r, 1);
}

TEST_F(VdsoCallTest, FramelessVdsoLeafReturnsToTheCallerAtSp) {
  mem_.put(kG0Sp, call_ret_);  // no frame: the return address at sp, BP still nanotime1's
  expect_goroutine_frames(walk_from(kVdso + 0x100, kG0Sp, kCallerBp), 1);
}

TEST_F(VdsoCallTest, FramelessVdsoLeafBelowAFramePointerThatLooksValid) {
  // A thread whose g0 stack lies below the goroutine's (Go-allocated): BP passes the frame-pointer
  // checks, and following it would skip the vDSO caller.
  uint64_t g0sp = 0xc000100000;
  mem_.put(g0sp, call_ret_);
  expect_goroutine_frames(walk_from(kVdso + 0x100, g0sp, kCallerBp), 1);
}

TEST_F(VdsoCallTest, VdsoLeafThatHasJustPushedBp) {
  uint64_t g0sp = 0xc000100000;
  mem_.put(g0sp, kCallerBp);  // PUSH rbp done, MOV rsp, rbp not yet
  mem_.put(g0sp + 8, call_ret_);
  expect_goroutine_frames(walk_from(kVdso + 0x101, g0sp, kCallerBp), 1);
}

TEST_F(VdsoCallTest, SampleInTheCallerAfterTheSwitch) {
  // In nanotime1 itself, sp already on g0: the frame is still found through BP.
  expect_goroutine_frames(walk_from(call_ret_, kG0Sp, kCallerBp), 0);
  EXPECT_TRUE(out_[0].exact_pc);
}

TEST_F(VdsoCallTest, OtherFramesWithBpElsewhereKeepTheirPcsp) {
  // The rule is the vDSO callers': a pc in main.main with a BP that disagrees is still walked by pcsp.
  mem_.put(kG0Sp + main_delta_, goexit_);
  auto r = walk_from(main_pc_, kG0Sp, kCallerBp);
  ASSERT_EQ(r.count, 2u) << to_string(r.reason);
  EXPECT_EQ(out_[1].pc, goexit_);
}

TEST_F(StackWalkerTest, ExactPcAfterSigpanic) {
  auto sp_fn = func("runtime.sigpanic"), b = func("main.main"), x = func("runtime.goexit");
  auto [ps, ds] = body_pc(sp_fn);
  auto [pb, db] = body_pc(b);
  WordMemory mem;
  uint64_t sp0 = 0xc000500000;
  mem.put(sp0 + ds, pb);
  mem.put(sp0 + ds + 8 + db, x.entry + 1);
  RegisterSet regs;
  regs.pc = ps;
  regs.sp = sp0;
  PhysicalFrame out[8];
  auto r = StackWalker(mem, *space_).walk(regs, WalkOptions{}, out);
  ASSERT_GE(r.count, 2u);
  EXPECT_TRUE(out[1].exact_pc);  // the faulting instruction itself
  EXPECT_FALSE(out[2].exact_pc);
}

// Words that are no return address never become frames: values seen at the end of perf-backend stacks
// of real servers (a heap pointer, small integers, -1), a pc of the text that follows no call.
class NotReturnAddressTest : public StackWalkerTest {
 protected:
  // gopark's frame holds `word` where its return address belongs; main.main and goexit above it.
  WalkResult walk_with_return_word(uint64_t word) {
    auto a = func("runtime.gopark");
    std::tie(pa_, da_) = body_pc(a);
    auto [pb, db] = body_pc(func("main.main"));
    mem_ = WordMemory();
    mem_.put(kSp + da_, word);
    mem_.put(kSp + da_ + 8 + db, func("runtime.goexit").entry + 1);
    RegisterSet regs;
    regs.pc = pa_;
    regs.sp = kSp;
    return StackWalker(mem_, *space_).walk(regs, WalkOptions{}, out_);
  }
  void expect_refused(uint64_t word) {
    auto r = walk_with_return_word(word);
    EXPECT_EQ(r.reason, StopReason::kNotReturnAddress) << std::hex << word << ": " << to_string(r.reason);
    EXPECT_FALSE(r.complete());
    ASSERT_EQ(r.count, 1u) << std::hex << word;
    EXPECT_EQ(out_[0].pc, pa_);
  }
  static constexpr uint64_t kSp = 0xc000600000;
  uint64_t pa_ = 0;
  int32_t da_ = 0;
  WordMemory mem_;
  PhysicalFrame out_[8];
};

TEST_F(NotReturnAddressTest, WordOutsideExecutableMappingsIsNeverAFrame) {
  expect_refused(0xc00082fb10);  // a heap pointer
  expect_refused(0x1);
  expect_refused(0xffffffffffffffff);
}

// The file's read-only data is mapped from the executable (every segment of a core's NT_FILE mapping is
// taken as code there), but is no code: a word pointing into it (a constant, a closure's funcval) is no
// frame. One such word once passed for a C frame and joined stale frames to another stack.
TEST_F(NotReturnAddressTest, WordInTheExecutablesReadOnlyDataIsNeverAFrame) {
  int seen = 0;
  for (const auto& seg : module_->elf().segments()) {
    if (seg.type != 1 /*PT_LOAD*/ || (seg.flags & 1 /*PF_X*/) != 0 || seg.vaddr < 0x400000 || seg.memsz < 0x200) continue;
    expect_refused(seg.vaddr + 0x100);
    ++seen;
  }
  EXPECT_GT(seen, 0) << "no read-only segment in the test binary";
}

TEST_F(NotReturnAddressTest, GoPcThatFollowsNoCallIsRefused) {
  auto b = func("main.main");
  uint64_t not_ret = pc_not_after_call(b);
  expect_refused(not_ret);
  // The same frame with a real return address into main.main walks on to goexit.
  auto [pb, db] = body_pc(b);
  auto r = walk_with_return_word(pb);
  EXPECT_EQ(r.reason, StopReason::kTopFrame) << to_string(r.reason);
  EXPECT_EQ(r.count, 3u);
}

TEST_F(NotReturnAddressTest, TheRuntimesFakeReturnAddressesAreFrames) {
  // cgocallback pushes curg.sched.pc, which asmcgocall set to systemstack_switch (+8 since Go 1.21), as
  // its return address on the goroutine stack; newproc plants goexit+1 under every goroutine.
  uint64_t fake = func("runtime.systemstack_switch").entry;
  auto r = walk_with_return_word(fake);
  EXPECT_NE(r.reason, StopReason::kNotReturnAddress);
  ASSERT_GE(r.count, 2u);
  EXPECT_EQ(out_[1].pc, fake);
  r = walk_with_return_word(func("runtime.goexit").entry + 1);
  EXPECT_EQ(r.reason, StopReason::kTopFrame);
}

TEST_F(NotReturnAddressTest, ExactPcBelowSigpanicNeedNotFollowACall) {
  // The word under sigpanic's frame is the faulting instruction (pushed by the signal handler).
  auto sp_fn = func("runtime.sigpanic"), b = func("main.main"), x = func("runtime.goexit");
  auto [ps, ds] = body_pc(sp_fn);
  uint64_t fault = pc_not_after_call(b);
  int32_t db = tab_->sp_delta(b, fault).value_or(0);
  mem_.put(kSp + ds, fault);
  mem_.put(kSp + ds + 8 + db, x.entry + 1);
  RegisterSet regs;
  regs.pc = ps;
  regs.sp = kSp;
  auto r = StackWalker(mem_, *space_).walk(regs, WalkOptions{}, out_);
  ASSERT_EQ(r.count, 3u) << to_string(r.reason);
  EXPECT_EQ(out_[1].pc, fault);
  EXPECT_TRUE(out_[1].exact_pc);
  // But not a word outside the code.
  mem_.put(kSp + ds, 0xc00082fb10);
  r = StackWalker(mem_, *space_).walk(regs, WalkOptions{}, out_);
  EXPECT_EQ(r.reason, StopReason::kNotReturnAddress);
  EXPECT_EQ(r.count, 1u);
}

TEST_F(NotReturnAddressTest, FramePointerChainIntoNonCodeEndsTheWalk) {
  // A C frame (no module) whose frame-pointer chain leads to a heap word: stop, no frame for it.
  std::vector<AddressSpace::FileMapping> files;
  for (const auto& s : module_->elf().segments()) {
    if (s.type != 1) continue;
    files.push_back({s.vaddr & ~0xfffull, (s.vaddr + s.memsz + 0xfff) & ~0xfffull, s.offset & ~0xfffull, kBinary});
  }
  constexpr uint64_t kC = 0x7fff10000000;
  files.push_back({kC, kC + 0x1000, 0, "[anon:jit]"});
  space_ = AddressSpace::from_file_mappings(files);
  space_->set_module(kBinary, module_);
  uint64_t fp = kSp + 0x40;
  mem_.put(kSp, 0);
  mem_.put(fp, fp + 0x40);
  mem_.put(fp + 8, 0xc00082fb10);
  RegisterSet regs;
  regs.pc = kC + 0x10;
  regs.sp = kSp;
  regs.fp = fp;
  auto r = StackWalker(mem_, *space_).walk(regs, WalkOptions{}, out_);
  EXPECT_FALSE(r.complete());
  for (size_t i = 0; i < r.count; ++i) EXPECT_NE(out_[i].pc, 0xc00082fb10u);
}

TEST(FollowsCall, Amd64Encodings) {
  auto ends_with_call = [](std::vector<uint8_t> bytes) { return follows_call(Arch::kAmd64, bytes); };
  EXPECT_TRUE(ends_with_call({0x90, 0xe8, 0x10, 0x20, 0x30, 0x40}));          // CALL rel32
  EXPECT_TRUE(ends_with_call({0x48, 0x8b, 0x11, 0xff, 0xd2}));                // CALL DX
  EXPECT_TRUE(ends_with_call({0x90, 0x41, 0xff, 0xd4}));                      // CALL R12
  EXPECT_TRUE(ends_with_call({0x90, 0xff, 0x15, 0x01, 0x02, 0x03, 0x04}));    // CALL [rip+disp32]
  EXPECT_TRUE(ends_with_call({0x90, 0xff, 0x50, 0x18}));                      // CALL [rax+0x18]
  EXPECT_TRUE(ends_with_call({0x90, 0xff, 0x14, 0x24}));                      // CALL [rsp]
  EXPECT_TRUE(ends_with_call({0xff, 0x94, 0x24, 0x01, 0x02, 0x03, 0x04}));    // CALL [rsp+disp32]
  EXPECT_FALSE(ends_with_call({0x48, 0x89, 0xc3}));                           // MOV RBX, RAX
  EXPECT_FALSE(ends_with_call({0x90, 0xff, 0xe0}));                           // JMP RAX (FF /4)
  EXPECT_FALSE(ends_with_call({0x90, 0xff, 0x50}));                           // FF /2 cut short
  EXPECT_FALSE(ends_with_call({}));
}

TEST(FollowsCall, Arm64Encodings) {
  auto ends_with = [](uint32_t insn) {
    uint8_t b[4];
    std::memcpy(b, &insn, 4);
    return follows_call(Arch::kArm64, std::span<const uint8_t>(b, 4));
  };
  EXPECT_TRUE(ends_with(0x94000123));   // BL
  EXPECT_TRUE(ends_with(0xd63f0020));   // BLR X1
  EXPECT_FALSE(ends_with(0x14000123));  // B
  EXPECT_FALSE(ends_with(0xd61f0020));  // BR X1
  EXPECT_FALSE(ends_with(0xd65f03c0));  // RET
}

}  // namespace
}  // namespace goperf::unwind

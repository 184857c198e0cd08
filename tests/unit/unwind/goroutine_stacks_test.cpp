// GoroutineStacks and GoroutineScan on synthetic memory laid over a real stripped Go binary (Debian's
// etcdctl, Go 1.19): the pclntab is real, the g's (with Go 1.19's layout) and their stacks are made up,
// so that each case of reading a running process from outside is exercised: an unchanged g, a g that
// moves on between the reads, a dead g reused with a new goid, a stack moved by copystack.
#include "unwind/goroutine_stacks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/goroutine_lister.h"
#include "unwind/goroutine_scan.h"
#include "unwind/memory.h"
#include "unwind/return_address.h"
#include "unwind/settled_g_read.h"
#include "tests/unit/unwind/synthetic_stack.h"

namespace goperf::unwind {
namespace {

// Byte-addressed regions; every read is counted and may be watched (to change memory between reads).
class RegionMemory : public Memory {
 public:
  void map(uint64_t addr, size_t size) { regions_[addr].assign(size, 0); }
  template <typename T>
  void put(uint64_t addr, T v) {
    auto* p = at(addr, sizeof v);
    ASSERT_NE(p, nullptr) << std::hex << addr;
    std::memcpy(p, &v, sizeof v);
  }
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    ++reads;
    if (on_read) on_read(addr);
    const auto* p = const_cast<RegionMemory*>(this)->at(addr, out.size());
    if (!p) return make_error(ErrorCode::kUnavailable, "unmapped");
    std::memcpy(out.data(), p, out.size());
    return {};
  }
  mutable size_t reads = 0;
  std::function<void(uint64_t)> on_read;

 private:
  uint8_t* at(uint64_t addr, size_t n) {
    auto it = regions_.upper_bound(addr);
    if (it == regions_.begin()) return nullptr;
    --it;
    if (addr + n > it->first + it->second.size()) return nullptr;
    return it->second.data() + (addr - it->first);
  }
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

constexpr uint64_t kG = 0xc000010000, kStack = 0xc000100000, kStackSize = 0x2000;

class GoroutineStacksTest : public SyntheticStackTest {
 protected:
  void SetUp() override {
    SyntheticStackTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    layout_ = layout_for_go_minor(19).layout;
    lister_ = std::make_unique<GoroutineLister>(*layout_, RuntimeGlobals{}, 0);
    mem_.map(kG, 4096);
    mem_.map(kStack, 4 * kStackSize);
  }

  // A return address into the named function where its frame is largest, and that frame's size.
  std::pair<uint64_t, int32_t> body_pc(const char* name) { return SyntheticStackTest::body_pc(func(name)); }

  // runtime.gopark <- main.main <- runtime.main <- runtime.goexit on the stack [lo, lo + kStackSize),
  // parked near its top. Returns the saved sp; sched.pc is gopark's return address (park_pc_).
  uint64_t lay_stack(uint64_t lo) {
    auto [pa, da] = body_pc("runtime.gopark");
    auto [pb, db] = body_pc("main.main");
    auto [pc, dc] = body_pc("runtime.main");
    auto goexit = module_->pclntab()->find_func_by_name("runtime.goexit");
    uint64_t sp0 = lo + kStackSize - 0x400;
    mem_.put<uint64_t>(sp0 + da, pb);
    uint64_t sp1 = sp0 + da + 8;
    mem_.put<uint64_t>(sp1 + db, pc);
    uint64_t sp2 = sp1 + db + 8;
    mem_.put<uint64_t>(sp2 + dc, goexit->entry + 1);
    park_pc_ = pa;
    return sp0;
  }

  void write_g(uint64_t goid, uint32_t status, uint64_t stack_lo, uint64_t sp) {
    const GLayout& l = layout_->g;
    mem_.put<uint64_t>(kG + l.goid, goid);
    mem_.put<uint32_t>(kG + l.atomicstatus, status);
    mem_.put<uint64_t>(kG + l.stack_lo, stack_lo);
    mem_.put<uint64_t>(kG + l.stack_hi, stack_lo + kStackSize);
    mem_.put<uint64_t>(kG + l.sched_sp, sp);
    mem_.put<uint64_t>(kG + l.sched_pc, park_pc_);
  }

  GoroutineInfo g_now() {
    auto g = lister_->read_g(mem_, kG);
    EXPECT_TRUE(g) << g.error().message();
    return g.value_or(GoroutineInfo{});
  }

  const GoRuntimeLayout* layout_ = nullptr;
  std::unique_ptr<GoroutineLister> lister_;
  RegionMemory mem_;
  uint64_t park_pc_ = 0;
};

TEST_F(GoroutineStacksTest, UnchangedGoroutineReusesItsStackWithoutReadingMemory) {
  write_g(7, kGwaiting, kStack, lay_stack(kStack));
  GoroutineStacks stacks(mem_, *space_, *lister_);
  auto first = stacks.stack(g_now(), nullptr);
  ASSERT_EQ(first.source, GoroutineStack::Source::kWalked);
  ASSERT_EQ(first.frames.size(), 4u) << to_string(first.reason);
  EXPECT_EQ(first.frames[0].pc, park_pc_);
  const uint64_t version = first.version;
  stacks.end_tick();
  const GoroutineInfo g = g_now();
  const size_t reads = mem_.reads;
  auto again = stacks.stack(g, nullptr);
  EXPECT_EQ(again.source, GoroutineStack::Source::kReused);
  EXPECT_EQ(mem_.reads, reads) << "an unchanged goroutine must cost no read";
  EXPECT_EQ(again.version, version);
  ASSERT_EQ(again.frames.size(), 4u);
  // Made runnable (ready): the same saved context, the same stack.
  write_g(7, kGrunnable, kStack, g.sched_sp);
  EXPECT_EQ(stacks.stack(g_now(), nullptr).source, GoroutineStack::Source::kReused);
  EXPECT_EQ(stacks.stats().walked, 1u);
  EXPECT_EQ(stacks.stats().reused, 2u);
  // Running: its registers are on a thread; no stack from outside.
  write_g(7, kGrunning, kStack, g.sched_sp);
  EXPECT_EQ(stacks.stack(g_now(), nullptr).source, GoroutineStack::Source::kOnThread);
}

TEST_F(GoroutineStacksTest, GoroutineThatMovesOnWhileReadIsRetriedFromItsNewState) {
  const uint64_t sp = lay_stack(kStack);
  write_g(7, kGwaiting, kStack, sp);
  GoroutineStacks stacks(mem_, *space_, *lister_);
  const GoroutineInfo before = g_now();
  // The g runs and parks again 0x40 bytes lower (same callers) while its stack is being walked: the
  // check after the walk sees another saved sp.
  const uint64_t sp2 = lay_stack(kStack + 2 * kStackSize);
  int g_reads = 0;
  mem_.on_read = [&](uint64_t addr) {
    if (addr == kG && ++g_reads == 1) write_g(7, kGwaiting, kStack + 2 * kStackSize, sp2);
  };
  auto s = stacks.stack(before, nullptr);
  mem_.on_read = nullptr;
  EXPECT_EQ(s.source, GoroutineStack::Source::kWalked);
  EXPECT_EQ(stacks.stats().retried, 1u);
  ASSERT_EQ(s.frames.size(), 4u);
  EXPECT_EQ(s.frames[0].sp, sp2) << "the retry walks the g's new state, not the torn one";
}

// read_settled_g (settled_g_read.h): a g is sampled only as two whole reads in a row agree. Here the
// goroutine exits after the first (gdestroy: status _Gdead, labels cleared), as a churning program's
// goroutines do all the time: it is dead, not a running goroutine without labels.
TEST_F(GoroutineStacksTest, GoroutineExitingAsReadIsReadDead) {
  write_g(7, kGrunning, kStack, lay_stack(kStack));
  mem_.put<uint64_t>(kG + layout_->g.labels, 0xc000abc000);
  int g_reads = 0;
  mem_.on_read = [&](uint64_t addr) {
    if (addr != kG || ++g_reads != 2) return;
    mem_.put<uint32_t>(kG + layout_->g.atomicstatus, kGdead);
    mem_.put<uint64_t>(kG + layout_->g.labels, 0);
  };
  auto r = read_settled_g(*lister_, mem_, kG);
  mem_.on_read = nullptr;
  EXPECT_FALSE(r.unsettled);
  ASSERT_TRUE(r.g.has_value());
  EXPECT_TRUE(r.g->is_dead());
  EXPECT_EQ(g_reads, 2);
}

// One that moves on between the first two reads is taken as the next two agree; one that changes at every
// read is not sampled.
TEST_F(GoroutineStacksTest, GoroutineChangingAsReadSettlesOrIsNotSampled) {
  const uint64_t sp = lay_stack(kStack);
  write_g(7, kGrunning, kStack, sp);
  int g_reads = 0;
  mem_.on_read = [&](uint64_t addr) {
    if (addr == kG && ++g_reads == 2) write_g(7, kGwaiting, kStack, sp - 0x40);
  };
  auto r = read_settled_g(*lister_, mem_, kG);
  EXPECT_FALSE(r.unsettled);
  ASSERT_TRUE(r.g.has_value());
  EXPECT_EQ(r.g->base_status(), kGwaiting);
  EXPECT_EQ(g_reads, 3);
  g_reads = 0;
  mem_.on_read = [&](uint64_t addr) {
    if (addr == kG) write_g(7, ++g_reads % 2 ? kGrunning : kGwaiting, kStack, sp);
  };
  auto never = read_settled_g(*lister_, mem_, kG);
  mem_.on_read = nullptr;
  EXPECT_TRUE(never.unsettled);
  EXPECT_FALSE(never.g.has_value());
  EXPECT_EQ(g_reads, 4);
}

TEST_F(GoroutineStacksTest, SettledGoroutineIsReadTwiceAlikeAndADeadOneOnce) {
  write_g(7, kGrunning, kStack, lay_stack(kStack));
  mem_.put<uint64_t>(kG + layout_->g.labels, 0xc000abc000);
  int g_reads = 0;
  mem_.on_read = [&](uint64_t addr) { g_reads += addr == kG; };
  auto r = read_settled_g(*lister_, mem_, kG);
  EXPECT_FALSE(r.unsettled);
  ASSERT_TRUE(r.g.has_value());
  EXPECT_EQ(r.g->labels, 0xc000abc000u);
  EXPECT_EQ(g_reads, 2);
  mem_.put<uint32_t>(kG + layout_->g.atomicstatus, kGdead);
  g_reads = 0;
  auto dead = read_settled_g(*lister_, mem_, kG);
  mem_.on_read = nullptr;
  ASSERT_TRUE(dead.g.has_value());
  EXPECT_TRUE(dead.g->is_dead());
  EXPECT_EQ(g_reads, 1);
}

TEST_F(GoroutineStacksTest, GoroutineThatKeepsMovingIsDroppedAndCounted) {
  const uint64_t sp = lay_stack(kStack);
  const uint64_t sp2 = lay_stack(kStack + 2 * kStackSize);
  write_g(7, kGwaiting, kStack, sp);
  GoroutineStacks stacks(mem_, *space_, *lister_);
  const GoroutineInfo before = g_now();
  bool flip = false;
  mem_.on_read = [&](uint64_t addr) {  // a new saved context at every read of the g
    if (addr != kG) return;
    flip = !flip;
    write_g(7, kGwaiting, flip ? kStack + 2 * kStackSize : kStack, flip ? sp2 : sp);
  };
  auto s = stacks.stack(before, nullptr);
  mem_.on_read = nullptr;
  EXPECT_EQ(s.source, GoroutineStack::Source::kChanged);
  EXPECT_TRUE(s.frames.empty());
  EXPECT_EQ(stacks.stats().dropped, 1u);
}

TEST_F(GoroutineStacksTest, DeadGoroutineReusedWithNewGoidIsWalkedAgain) {
  const uint64_t sp = lay_stack(kStack);
  write_g(7, kGwaiting, kStack, sp);
  GoroutineStacks stacks(mem_, *space_, *lister_);
  auto first = stacks.stack(g_now(), nullptr);
  ASSERT_EQ(first.source, GoroutineStack::Source::kWalked);
  const uint64_t version = first.version;
  stacks.end_tick();
  // goexit0 put the g on the free list, newproc took it for goroutine 9, which parked at the same
  // place of the same stack: another goroutine, walked anew.
  write_g(9, kGwaiting, kStack, sp);
  auto next = stacks.stack(g_now(), nullptr);
  EXPECT_EQ(next.source, GoroutineStack::Source::kWalked);
  EXPECT_NE(next.version, version);
  EXPECT_EQ(stacks.stats().walked, 2u);
}

TEST_F(GoroutineStacksTest, StackMovedByCopystackIsWalkedAtItsNewPlace) {
  write_g(7, kGwaiting, kStack, lay_stack(kStack));
  GoroutineStacks stacks(mem_, *space_, *lister_);
  auto first = stacks.stack(g_now(), nullptr);
  ASSERT_EQ(first.source, GoroutineStack::Source::kWalked);
  const uint64_t version = first.version;
  stacks.end_tick();
  // copystack: a new stack.lo, the saved sp moved with it; the old stack's words are left behind.
  const uint64_t moved = kStack + 2 * kStackSize;
  const uint64_t sp2 = lay_stack(moved);
  write_g(7, kGwaiting, moved, sp2);
  auto next = stacks.stack(g_now(), nullptr);
  EXPECT_EQ(next.source, GoroutineStack::Source::kWalked);
  EXPECT_NE(next.version, version);
  ASSERT_EQ(next.frames.size(), 4u);
  for (const auto& f : next.frames) EXPECT_GE(f.sp, moved);
}

// GoroutineScan: allgs {ptr, len, cap} at kAllgs, its array at kArray, g's of 0x200 bytes at kG + i*0x200.
class GoroutineScanTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kAllgs = 0x500000, kArray = 0xc000020000;
  void SetUp() override {
    layout_ = layout_for_go_minor(26).layout;
    mem_.map(kAllgs, 24);
    mem_.map(kArray, 8 * 64);
    mem_.map(kG, 0x200 * 64);
    globals_.allgs = kAllgs;
  }
  uint64_t g(size_t i) { return kG + 0x200 * i; }
  void set_len(size_t n) {
    for (size_t i = 0; i < n; ++i) mem_.put<uint64_t>(kArray + 8 * i, g(i));
    mem_.put<uint64_t>(kAllgs, kArray);
    mem_.put<uint64_t>(kAllgs + 8, n);
    mem_.put<uint64_t>(kAllgs + 16, 64);
  }
  void put_g(size_t i, uint64_t goid, uint32_t status, uint64_t sp) {
    const GLayout& l = layout_->g;
    mem_.put<uint64_t>(g(i) + l.goid, goid);
    mem_.put<uint32_t>(g(i) + l.atomicstatus, status);
    mem_.put<uint64_t>(g(i) + l.sched_sp, sp);
    mem_.put<uint64_t>(g(i) + l.stack_lo, 0xc000100000 + 0x2000 * i);
  }
  const GoRuntimeLayout* layout_ = nullptr;
  RuntimeGlobals globals_;
  RegionMemory mem_;
};

TEST_F(GoroutineScanTest, ReportsWhatChangedSinceThePreviousScan) {
  for (size_t i = 0; i < 3; ++i) put_g(i, i + 1, kGwaiting, 0x1000 + i);
  set_len(3);
  GoroutineScan scan(mem_, *layout_, globals_, 0);
  ASSERT_TRUE(scan.scan());
  ASSERT_EQ(scan.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(scan.changed(i)) << "a g's first scan is a change";
  ASSERT_TRUE(scan.scan());
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(scan.changed(i)) << i;
  // A GC scan bit is no change; a new saved sp is; a dead g reused with a new goid is.
  put_g(0, 1, kGwaiting | kGscan, 0x1000);
  put_g(1, 2, kGwaiting, 0x1100);
  put_g(2, 40, kGwaiting, 0x1002);
  ASSERT_TRUE(scan.scan());
  EXPECT_FALSE(scan.changed(0));
  EXPECT_TRUE(scan.changed(1));
  EXPECT_TRUE(scan.changed(2));
  EXPECT_EQ(scan.head(2).goid, 40u);
  // allgs grows: only its new entries are read, old g's keep their state.
  put_g(3, 41, kGrunnable, 0x1003);
  set_len(4);
  const uint64_t entries = scan.stats().allgs_entries_read;
  ASSERT_TRUE(scan.scan());
  ASSERT_EQ(scan.size(), 4u);
  EXPECT_EQ(scan.stats().allgs_entries_read, entries + 1);
  EXPECT_FALSE(scan.changed(0));
  EXPECT_TRUE(scan.changed(3));
  EXPECT_EQ(scan.head(3).base_status(), kGrunnable);
}

// Each word that decides whether a g moved on, changed alone: that g (and only it) is reported changed
// and is to be looked at; its new head is what the scan reports. Every other g costs nothing.
TEST_F(GoroutineScanTest, EachDecisiveWordChangedAloneIsAChange) {
  const GLayout& l = layout_->g;
  struct Word {
    const char* name;
    uint32_t off, size;
  };
  const Word words[] = {{"goid", l.goid, 8},         {"atomicstatus", l.atomicstatus, 4}, {"sched.sp", l.sched_sp, 8},
                        {"sched.pc", l.sched_pc, 8}, {"labels", l.labels, 8},             {"waitreason", l.waitreason, 1},
                        {"m", l.m, 8},               {"syscallsp", l.syscallsp, 8},       {"syscallpc", l.syscallpc, 8},
                        {"stack.lo", l.stack_lo, 8}};
  for (size_t i = 0; i < 4; ++i) put_g(i, i + 1, kGwaiting, 0x1000 + i);
  set_len(4);
  GoroutineScan scan(mem_, *layout_, globals_, 0);
  ASSERT_TRUE(scan.scan());
  EXPECT_EQ(scan.to_look_at().size(), 4u) << "every g is looked at at its first scan";
  ASSERT_TRUE(scan.scan());
  EXPECT_TRUE(scan.to_look_at().empty()) << "nothing changed";
  for (const Word& w : words) {
    // g 2's word gets a new value (status: runnable, which is no GC scan bit).
    const uint64_t v = w.off == l.atomicstatus ? uint64_t{kGrunnable} : uint64_t{0x5a};
    uint64_t old = 0;
    ASSERT_TRUE(mem_.read(g(2) + w.off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&old), w.size)));
    if (w.size == 8) mem_.put<uint64_t>(g(2) + w.off, v);
    if (w.size == 4) mem_.put<uint32_t>(g(2) + w.off, static_cast<uint32_t>(v));
    if (w.size == 1) mem_.put<uint8_t>(g(2) + w.off, static_cast<uint8_t>(v));
    ASSERT_TRUE(scan.scan());
    EXPECT_TRUE(scan.changed(2)) << w.name;
    EXPECT_EQ(scan.to_look_at(), std::vector<uint32_t>{2}) << w.name;
    EXPECT_FALSE(scan.changed(1)) << w.name;
    // As read now: unchanged at the next scan, and a change again when the old value comes back.
    ASSERT_TRUE(scan.scan());
    EXPECT_TRUE(scan.to_look_at().empty()) << w.name;
    if (w.size == 8) mem_.put<uint64_t>(g(2) + w.off, old);
    if (w.size == 4) mem_.put<uint32_t>(g(2) + w.off, static_cast<uint32_t>(old));
    if (w.size == 1) mem_.put<uint8_t>(g(2) + w.off, static_cast<uint8_t>(old));
    ASSERT_TRUE(scan.scan());
    EXPECT_EQ(scan.to_look_at(), std::vector<uint32_t>{2}) << w.name << " back";
  }
  // The head reported is the one read: a new goid and pc are seen.
  mem_.put<uint64_t>(g(3) + l.goid, 77);
  mem_.put<uint64_t>(g(3) + l.sched_pc, 0x401234);
  ASSERT_TRUE(scan.scan());
  EXPECT_EQ(scan.head(3).goid, 77u);
  EXPECT_EQ(scan.head(3).sched_pc, 0x401234u);
}

// A running g is looked at at every scan (its head says nothing of where it is now); a g its reader
// forgot is reported changed at the next scan; a torn allgs entry (no g) is unreadable at every scan.
TEST_F(GoroutineScanTest, RunningForgottenAndUnreadableGsAreLookedAt) {
  put_g(0, 1, kGrunning, 0x1000);
  put_g(1, 2, kGwaiting, 0x1001);
  put_g(2, 3, kGwaiting, 0x1002);
  set_len(4);
  mem_.put<uint64_t>(kArray + 8 * 3, 0);  // entry 3: no g
  GoroutineScan scan(mem_, *layout_, globals_, 0);
  ASSERT_TRUE(scan.scan());
  ASSERT_TRUE(scan.scan());
  auto look = scan.to_look_at();
  std::sort(look.begin(), look.end());
  EXPECT_EQ(look, (std::vector<uint32_t>{0, 3}));
  EXPECT_FALSE(scan.changed(0)) << "running, unchanged";
  EXPECT_FALSE(scan.readable(3));
  scan.forget(1);
  ASSERT_TRUE(scan.scan());
  look = scan.to_look_at();
  std::sort(look.begin(), look.end());
  EXPECT_EQ(look, (std::vector<uint32_t>{0, 1, 3}));
  EXPECT_TRUE(scan.changed(1));
}

// More g's than one read batch holds, in two heap regions far apart (two ranges), listed in allgs in an
// order other than by address: each g's head is read from its own place.
TEST_F(GoroutineScanTest, HeadsAcrossBatchesAndRangesAreEachReadFromTheirPlace) {
  constexpr size_t kN = 1500, kStride = 480;  // > 256 KiB of heads: several batches
  constexpr uint64_t kA = 0xc000400000, kB = 0xc000800000, kBigArray = 0xc000300000;
  mem_.map(kA, kStride * 1000);
  mem_.map(kB, kStride * (kN - 1000));
  mem_.map(kBigArray, 8 * kN);
  const GLayout& l = layout_->g;
  auto addr = [&](size_t i) { return i < 1000 ? kA + kStride * i : kB + kStride * (i - 1000); };
  // allgs in an order other than by address: g k at entry 7k mod kN.
  std::vector<size_t> slot_of(kN);
  for (size_t k = 0; k < kN; ++k) slot_of[k] = (k * 7) % kN;  // 7 is prime to 1500: a permutation
  for (size_t k = 0; k < kN; ++k) {
    const uint64_t a = addr(k);
    mem_.put<uint64_t>(kBigArray + 8 * slot_of[k], a);
    mem_.put<uint64_t>(a + l.goid, 1000 + k);
    mem_.put<uint32_t>(a + l.atomicstatus, kGwaiting);
    mem_.put<uint64_t>(a + l.sched_sp, 0x7000 + k);
  }
  mem_.put<uint64_t>(kAllgs, kBigArray);
  mem_.put<uint64_t>(kAllgs + 8, kN);
  GoroutineScan scan(mem_, *layout_, globals_, 0);
  ASSERT_TRUE(scan.scan());
  ASSERT_EQ(scan.size(), kN);
  for (size_t k = 0; k < kN; ++k) {
    ASSERT_TRUE(scan.readable(slot_of[k])) << k;
    EXPECT_EQ(scan.head(slot_of[k]).goid, 1000 + k) << k;
    EXPECT_EQ(scan.head(slot_of[k]).sched_sp, 0x7000 + k) << k;
  }
  ASSERT_TRUE(scan.scan());
  EXPECT_TRUE(scan.to_look_at().empty());
  // One g in the middle of a batch changes: only it is reported.
  mem_.put<uint64_t>(addr(1234) + l.sched_sp, 0x9999);
  ASSERT_TRUE(scan.scan());
  EXPECT_EQ(scan.to_look_at(), std::vector<uint32_t>{static_cast<uint32_t>(slot_of[1234])});
  EXPECT_EQ(scan.head(slot_of[1234]).sched_sp, 0x9999u);
}

}  // namespace
}  // namespace goperf::unwind

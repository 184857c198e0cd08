// GoroutineScan: the g's of a live process, tick after tick, at a cost that follows what changed. Of
// each g only its head is read (the bytes up to the fields that say whether it moved on: stack bounds,
// m, saved context, syscall context, status, goid, wait reason, pprof labels), in batched reads, and
// runtime.allgs only where it grew (src/runtime/proc.go allgadd: allgs only grows and its entries never
// change; g's are never freed, a dead g is reused with a new goid).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <sys/uio.h>

#include "symbolize/result.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"
#include "unwind/runtime_globals.h"

namespace goperf::unwind {

class Memory;

// What a g's head says.
struct GHead {
  uint64_t goid = 0;
  uint32_t status = 0;  // raw atomicstatus (may carry kGscan)
  uint8_t wait_reason = 0;
  uint64_t m = 0, sched_sp = 0, sched_pc = 0, syscallsp = 0, syscallpc = 0, stack_lo = 0;
  uint64_t labels = 0;

  uint32_t base_status() const { return status & ~uint32_t{kGscan}; }
  bool dead() const { return base_status() == kGdead || base_status() == kGdeadextra; }
  // Same goroutine with the same saved context: its stack is the one walked before (it changes only
  // while the goroutine runs, and a run parks it anew; copystack changes stack.lo and the saved sp).
  bool same_context(const GHead& o) const {
    return goid == o.goid && sched_sp == o.sched_sp && sched_pc == o.sched_pc && syscallsp == o.syscallsp &&
           syscallpc == o.syscallpc && stack_lo == o.stack_lo;
  }
  // ... in the same state with the same labels: its sample is the previous one's (a GC scan bit is no
  // change: a scan neither runs the goroutine nor moves its stack).
  bool same_as(const GHead& o) const {
    return same_context(o) && base_status() == o.base_status() && wait_reason == o.wait_reason && m == o.m &&
           labels == o.labels;
  }
};

// The head of a g read whole (GoroutineLister::read_g): the same deciding words, to compare with GHead::same_as.
GHead head_of(const GoroutineInfo& g);

struct GoroutineScanStats {
  uint64_t scans = 0, heads_read = 0, allgs_entries_read = 0, unreadable = 0;
};

class GoroutineScan {
 public:
  // globals: link-time addresses (load_bias is added). `memory` must outlive the scan; on a
  // ProcessMemory the heads are read in process_vm_readv batches, on any other one by one.
  GoroutineScan(const Memory& memory, const GoRuntimeLayout& layout, const RuntimeGlobals& globals, uint64_t load_bias);

  // Reads allgs (its new entries) and every g's head. Fails when allgs cannot be read.
  Status scan();

  size_t size() const { return addrs_.size(); }  // allgs entries, in allgs order
  uint64_t g_addr(size_t i) const { return addrs_[i]; }
  // False when the head could not be read at this scan (a g is never unmapped: a torn allgs entry).
  bool readable(size_t i) const { return ok_[i] != 0; }
  const GHead& head(size_t i) const { return last_[i]; }  // (readable g's)
  // Differs from the previous scan's head (always true at a g's first scan and after an unreadable one).
  bool changed(size_t i) const { return changed_[i] != 0; }
  // The entries to look at after this scan (in no particular order): those changed or unreadable, and those
  // running (a running g's head says nothing of where it is). Every other g is as at the previous scan.
  const std::vector<uint32_t>& to_look_at() const { return look_; }
  // Makes the next scan report g i as changed (its reader could not use this scan's head).
  void forget(size_t i) { ok_[i] = 0; }
  uint32_t head_bytes() const { return head_bytes_; }
  const GoroutineScanStats& stats() const { return stats_; }

 private:
  Status refresh_allgs();
  void plan_reads();
  void read_batch(size_t b);
  void compare(uint32_t i, const uint8_t* head);
  void unreadable(uint32_t i);
  GHead parse(const uint8_t* head) const;
  bool same_words(const uint8_t* head, const GHead& last) const;

  const Memory& memory_;
  const GLayout& l_;
  RuntimeGlobals globals_;
  uint64_t bias_;
  uint32_t head_bytes_;
  std::vector<uint64_t> addrs_;
  // The heads are read as few address ranges (g's sit side by side in the heap's spans), planned
  // when allgs grows, in batches of at most kBatchBytes read into one reused buffer and compared
  // right after (while the buffer is still in the cache). Range r covers the g's
  // order_[first, end) (allgs entries sorted by address); g i's head is at staging_[at_[i]].
  struct Range {
    uint64_t addr = 0;
    size_t len = 0, at = 0;
    uint32_t first = 0, end = 0;
  };
  struct Batch {
    uint32_t first = 0, end = 0;  // ranges_[first, end)
  };
  std::vector<Range> ranges_;
  std::vector<Batch> batches_;
  std::vector<uint32_t> order_;     // allgs entries with a g, by address
  std::vector<uint32_t> unplaced_;  // allgs entries without one (a torn entry): unreadable
  std::vector<uint32_t> at_;        // per g: offset of its head in staging_
  std::vector<uint8_t> staging_;
  std::vector<iovec> remote_, local_;
  size_t planned_ = 0;              // allgs entries the plan covers
  // Per g: its head as last read (the words that decide whether it changed); written only when it did.
  std::vector<GHead> last_;
  std::vector<uint8_t> ok_, changed_;
  std::vector<uint32_t> look_;
  std::unique_ptr<bool[]> read_ok_;  // read_many's answers, per range of a batch
  size_t read_ok_size_ = 0;
  GoroutineScanStats stats_;
};

}  // namespace goperf::unwind

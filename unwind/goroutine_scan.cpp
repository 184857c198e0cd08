// GoroutineScan: allgs read where it grew, the heads of all g's in batched reads, compared with the
// previous scan's.
#include "unwind/goroutine_scan.h"

#include <algorithm>
#include <cstring>

#include "unwind/memory.h"
#include "unwind/process_memory.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kMaxGoroutines = 1ull << 24;  // as GoroutineLister: guards a torn read

uint32_t head_size(const GLayout& l) {
  return std::max({l.stack_lo, l.stack_hi, l.m, l.sched_sp, l.sched_pc, l.syscallsp, l.syscallpc, l.atomicstatus,
                   l.goid, l.waitreason, l.labels}) +
         8;
}

// The scan's loop reads each field at its offset without a bounds check: head_bytes_ covers them all.
template <typename T>
T word(const uint8_t* head, uint32_t off) {
  T v;
  std::memcpy(&v, head + off, sizeof(T));
  return v;
}

}  // namespace

GoroutineScan::GoroutineScan(const Memory& memory, const GoRuntimeLayout& layout, const RuntimeGlobals& globals,
                             uint64_t load_bias)
    : memory_(memory), l_(layout.g), globals_(globals), bias_(load_bias), head_bytes_(head_size(layout.g)) {}

GHead head_of(const GoroutineInfo& g) {
  GHead h;
  h.goid = g.goid;
  h.status = g.status;
  h.wait_reason = g.wait_reason_index;
  h.m = g.m;
  h.sched_sp = g.sched_sp;
  h.sched_pc = g.sched_pc;
  h.syscallsp = g.syscallsp;
  h.syscallpc = g.syscallpc;
  h.stack_lo = g.stack_lo;
  h.labels = g.labels;
  return h;
}

GHead GoroutineScan::parse(const uint8_t* b) const {
  GHead h;
  h.goid = word<uint64_t>(b, l_.goid);
  h.status = word<uint32_t>(b, l_.atomicstatus);
  h.wait_reason = word<uint8_t>(b, l_.waitreason);
  h.m = word<uint64_t>(b, l_.m);
  h.sched_sp = word<uint64_t>(b, l_.sched_sp);
  h.sched_pc = word<uint64_t>(b, l_.sched_pc);
  h.syscallsp = word<uint64_t>(b, l_.syscallsp);
  h.syscallpc = word<uint64_t>(b, l_.syscallpc);
  h.stack_lo = word<uint64_t>(b, l_.stack_lo);
  h.labels = word<uint64_t>(b, l_.labels);
  return h;
}

// GHead::same_as on the raw bytes, without building a GHead: the unchanged g (nearly all of them) costs
// these loads and compares, and nothing is written for it.
bool GoroutineScan::same_words(const uint8_t* b, const GHead& o) const {
  return word<uint64_t>(b, l_.goid) == o.goid && word<uint64_t>(b, l_.sched_sp) == o.sched_sp &&
         word<uint64_t>(b, l_.sched_pc) == o.sched_pc &&
         (word<uint32_t>(b, l_.atomicstatus) & ~uint32_t{kGscan}) == o.base_status() &&
         word<uint8_t>(b, l_.waitreason) == o.wait_reason && word<uint64_t>(b, l_.m) == o.m &&
         word<uint64_t>(b, l_.syscallsp) == o.syscallsp && word<uint64_t>(b, l_.syscallpc) == o.syscallpc &&
         word<uint64_t>(b, l_.stack_lo) == o.stack_lo && word<uint64_t>(b, l_.labels) == o.labels;
}

// The new entries of allgs, read as the runtime's lock-free readers do (src/runtime/proc.go atomicAllG):
// allglen first, then allgptr (allgadd stores them in the other order, so that array holds at least
// allglen g's). Without allgptr, the slice header with its array pointer read again after (a header torn
// by a grow is not used). Entries already known are not read again: they never change.
Status GoroutineScan::refresh_allgs() {
  const uint64_t hdr = globals_.allgs + bias_;
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t ptr = 0, len = 0;
    if (globals_.allglen && globals_.allgptr) {
      auto n = memory_.read_u64(globals_.allglen + bias_);
      auto p = memory_.read_u64(globals_.allgptr + bias_);
      if (!n || !p) return make_error(ErrorCode::kUnavailable, "runtime.allglen is not readable");
      len = *n, ptr = *p;
    } else {
      auto p = memory_.read_u64(hdr), n = memory_.read_u64(hdr + 8), again = memory_.read_u64(hdr);
      if (!p || !n || !again) return make_error(ErrorCode::kUnavailable, "runtime.allgs is not readable");
      if (*p != *again) continue;
      len = *n, ptr = *p;
    }
    if (len > kMaxGoroutines || (len != 0 && ptr == 0))
      return make_error(ErrorCode::kFormat, "runtime.allgs looks corrupt (len " + std::to_string(len) + ")");
    if (len < addrs_.size()) continue;  // allgs never shrinks: a torn read
    const size_t known = addrs_.size();
    if (len == known) return {};
    addrs_.resize(len);
    auto st = memory_.read(ptr + known * 8, std::span<uint8_t>(reinterpret_cast<uint8_t*>(addrs_.data() + known),
                                                               (len - known) * 8));
    if (!st) {
      addrs_.resize(known);
      return std::move(st).error().with_context("reading the allgs array");
    }
    stats_.allgs_entries_read += len - known;
    last_.resize(len);
    ok_.resize(len, 0);
    changed_.resize(len, 1);
    return {};
  }
  return make_error(ErrorCode::kUnavailable, "runtime.allgs kept changing while read");
}

// The g's lie in the heap's spans, side by side (one size class), so their heads are read as few
// large ranges, one process_vm_readv per batch: the kernel pins each page once per range, where one
// range per g (184 bytes for Go 1.26) cost a page pin per g and was no cheaper than whole g's
// (measured: docs/benchmarks.md). g's farther apart than kMaxGap start a new range. A batch is read
// into the same small buffer as the one before and compared at once: the copy's destination and the
// comparison's source stay in the cache, where one buffer for every head (4.8 MB at 10,000 g's) did not.
void GoroutineScan::plan_reads() {
  constexpr uint64_t kMaxGap = 4096, kBatchBytes = 256 << 10;
  const uint32_t n = static_cast<uint32_t>(addrs_.size());
  order_.clear();
  unplaced_.clear();
  for (uint32_t i = 0; i < n; ++i) (addrs_[i] ? order_ : unplaced_).push_back(i);
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) { return addrs_[a] < addrs_[b]; });
  ranges_.clear();
  batches_.clear();
  at_.assign(n, 0);
  size_t filled = kBatchBytes + 1;  // bytes of the current batch (none open yet)
  for (uint32_t k = 0; k < order_.size(); ++k) {
    const uint64_t a = addrs_[order_[k]];
    Range* r = ranges_.empty() ? nullptr : &ranges_.back();
    const size_t grow = r && a >= r->addr + r->len ? a + head_bytes_ - (r->addr + r->len) : head_bytes_;
    // (A g starting inside the previous range is a duplicate or torn allgs entry: a range of its own.)
    if (!r || a < r->addr + r->len || a - (r->addr + r->len) > kMaxGap || filled + grow > kBatchBytes) {
      if (filled + head_bytes_ > kBatchBytes) {
        batches_.push_back({static_cast<uint32_t>(ranges_.size()), static_cast<uint32_t>(ranges_.size())});
        filled = 0;
      }
      ranges_.push_back({a, 0, filled, k, k});
      ++batches_.back().end;
      r = &ranges_.back();
    }
    const size_t end = a + head_bytes_ - r->addr;
    filled += end - r->len;
    r->len = end;
    r->end = k + 1;
    at_[order_[k]] = static_cast<uint32_t>(r->at + (a - r->addr));
  }
  size_t largest = 0;
  for (const auto& r : ranges_) largest = std::max(largest, r.at + r.len);
  staging_.resize(largest);
  planned_ = n;
}

void GoroutineScan::read_batch(size_t b) {
  const Batch& batch = batches_[b];
  const size_t n = batch.end - batch.first;
  if (read_ok_size_ < n) {
    read_ok_ = std::make_unique<bool[]>(n);
    read_ok_size_ = n;
  }
  std::fill_n(read_ok_.get(), n, false);
  if (const auto* pm = dynamic_cast<const ProcessMemory*>(&memory_)) {
    remote_.resize(n);
    local_.resize(n);
    for (size_t j = 0; j < n; ++j) {
      const Range& r = ranges_[batch.first + j];
      remote_[j] = {reinterpret_cast<void*>(r.addr), r.len};
      local_[j] = {staging_.data() + r.at, r.len};
    }
    pm->read_many(remote_, local_, std::span<bool>(read_ok_.get(), n));
  } else {
    for (size_t j = 0; j < n; ++j) {
      const Range& r = ranges_[batch.first + j];
      read_ok_[j] = static_cast<bool>(memory_.read(r.addr, std::span<uint8_t>(staging_.data() + r.at, r.len)));
    }
  }
}

void GoroutineScan::unreadable(uint32_t i) {
  ++stats_.unreadable;
  ok_[i] = 0;
  changed_[i] = 1;
  look_.push_back(i);
}

void GoroutineScan::compare(uint32_t i, const uint8_t* b) {
  const bool changed = !ok_[i] || !same_words(b, last_[i]);
  ok_[i] = 1;
  changed_[i] = changed ? 1 : 0;
  if (changed) last_[i] = parse(b);
  if (changed || last_[i].base_status() == kGrunning) look_.push_back(i);
}

Status GoroutineScan::scan() {
  if (auto st = refresh_allgs(); !st) return st;
  ++stats_.scans;
  if (planned_ != addrs_.size()) plan_reads();
  look_.clear();
  for (uint32_t i : unplaced_) unreadable(i);
  for (size_t b = 0; b < batches_.size(); ++b) {
    read_batch(b);
    for (uint32_t r = batches_[b].first; r < batches_[b].end; ++r) {
      const Range& range = ranges_[r];
      const bool ok = read_ok_[r - batches_[b].first];
      for (uint32_t k = range.first; k < range.end; ++k) {
        const uint32_t i = order_[k];
        if (ok) compare(i, staging_.data() + at_[i]);
        else unreadable(i);
      }
    }
  }
  stats_.heads_read += addrs_.size();
  return {};
}

}  // namespace goperf::unwind

// GoroutineScan: allgs read where it grew, the heads of all g's in batched reads, compared with the
// previous scan's.
#include "unwind/goroutine_scan.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "unwind/memory.h"
#include "unwind/process_memory.h"

namespace goperf::unwind {
namespace {

constexpr uint64_t kMaxGoroutines = 1ull << 24;  // as GoroutineLister: guards a torn read

template <typename T>
T field(std::span<const uint8_t> buf, uint32_t off) {
  T v{};
  if (off + sizeof(T) <= buf.size()) std::memcpy(&v, buf.data() + off, sizeof(T));
  return v;
}

uint32_t head_size(const GLayout& l) {
  return std::max({l.stack_lo, l.stack_hi, l.m, l.sched_sp, l.sched_pc, l.syscallsp, l.syscallpc, l.atomicstatus,
                   l.goid, l.waitreason, l.labels}) +
         8;
}

}  // namespace

GoroutineScan::GoroutineScan(const Memory& memory, const GoRuntimeLayout& layout, const RuntimeGlobals& globals,
                             uint64_t load_bias)
    : memory_(memory), l_(layout.g), globals_(globals), bias_(load_bias), head_bytes_(head_size(layout.g)) {}

GHead GoroutineScan::parse(std::span<const uint8_t> b) const {
  GHead h;
  h.goid = field<uint64_t>(b, l_.goid);
  h.status = field<uint32_t>(b, l_.atomicstatus);
  h.wait_reason = field<uint8_t>(b, l_.waitreason);
  h.m = field<uint64_t>(b, l_.m);
  h.sched_sp = field<uint64_t>(b, l_.sched_sp);
  h.sched_pc = field<uint64_t>(b, l_.sched_pc);
  h.syscallsp = field<uint64_t>(b, l_.syscallsp);
  h.syscallpc = field<uint64_t>(b, l_.syscallpc);
  h.stack_lo = field<uint64_t>(b, l_.stack_lo);
  h.labels = field<uint64_t>(b, l_.labels);
  return h;
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
    cur_.resize(len);
    ok_.resize(len, 0);
    changed_.resize(len, 1);
    return {};
  }
  return make_error(ErrorCode::kUnavailable, "runtime.allgs kept changing while read");
}

// The g's lie in the heap's spans, side by side (one size class), so their heads are read as few
// large ranges, one process_vm_readv for up to IOV_MAX of them: the kernel pins each page once per
// range, where one range per g (184 bytes for Go 1.26) cost a page pin per g and was no cheaper than
// whole g's (measured: docs/benchmarks.md). g's farther apart than kMaxGap start a new range.
void GoroutineScan::plan_reads() {
  constexpr uint64_t kMaxGap = 4096, kMaxRange = 1 << 20;
  const size_t n = addrs_.size();
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return addrs_[a] < addrs_[b]; });
  ranges_.clear();
  at_.assign(n, 0);
  range_of_.assign(n, UINT32_MAX);
  size_t total = 0;
  for (uint32_t i : order) {
    const uint64_t a = addrs_[i];
    if (a == 0) continue;
    Range* r = ranges_.empty() ? nullptr : &ranges_.back();
    // (A g starting inside the previous range is a duplicate or torn allgs entry: a range of its own.)
    if (!r || a < r->addr + r->len || a - (r->addr + r->len) > kMaxGap || a + head_bytes_ - r->addr > kMaxRange) {
      ranges_.push_back({a, 0, total});
      r = &ranges_.back();
    }
    const size_t end = a + head_bytes_ - r->addr;
    total += end - r->len;
    r->len = end;
    at_[i] = r->at + (a - r->addr);
    range_of_[i] = static_cast<uint32_t>(ranges_.size() - 1);
  }
  staging_.resize(total);
  planned_ = n;
}

void GoroutineScan::read_heads() {
  if (planned_ != addrs_.size()) plan_reads();
  const size_t n = ranges_.size();
  if (read_ok_size_ < n) {
    read_ok_ = std::make_unique<bool[]>(n);
    read_ok_size_ = n;
  }
  std::fill_n(read_ok_.get(), n, false);
  if (const auto* pm = dynamic_cast<const ProcessMemory*>(&memory_)) {
    std::vector<iovec> remote(n), local(n);
    for (size_t i = 0; i < n; ++i) {
      remote[i] = {reinterpret_cast<void*>(ranges_[i].addr), ranges_[i].len};
      local[i] = {staging_.data() + ranges_[i].at, ranges_[i].len};
    }
    pm->read_many(remote, local, std::span<bool>(read_ok_.get(), n));
  } else {
    for (size_t i = 0; i < n; ++i)
      read_ok_[i] = static_cast<bool>(
          memory_.read(ranges_[i].addr, std::span<uint8_t>(staging_.data() + ranges_[i].at, ranges_[i].len)));
  }
  stats_.heads_read += addrs_.size();
}

Status GoroutineScan::scan() {
  if (auto st = refresh_allgs(); !st) return st;
  ++stats_.scans;
  read_heads();
  const size_t n = addrs_.size();
  prev_.swap(cur_);
  prev_.resize(n);
  cur_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const bool was_ok = ok_[i] != 0;
    ok_[i] = range_of_[i] != UINT32_MAX && read_ok_[range_of_[i]] ? 1 : 0;
    if (!ok_[i]) {
      ++stats_.unreadable;
      cur_[i] = GHead{};
      changed_[i] = 1;
      continue;
    }
    cur_[i] = parse(std::span<const uint8_t>(staging_).subspan(at_[i], head_bytes_));
    changed_[i] = !was_ok || !cur_[i].same_as(prev_[i]);
  }
  return {};
}

}  // namespace goperf::unwind

// What a snapshot copies of each goroutine's stack, and how much that will be (unwind/goroutine_stack_copy.h).
#include "unwind/goroutine_stack_copy.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "unwind/goroutine_lister.h"
#include "unwind/process_memory.h"

namespace goperf::unwind {

std::optional<uint64_t> allgs_length(const Memory& mem, uint64_t allgs) {
  // runtime.allgs is a []*g: {ptr, len, cap} (src/runtime/proc.go).
  auto len = mem.read_u64(allgs + 8);
  if (!len) return std::nullopt;
  return *len;
}

// The part of a goroutine's stack a snapshot copies: from its saved sp up (sched or syscall state);
// all of it when it runs (its sp is in its thread's registers, not in g.sched).
std::pair<uint64_t, uint64_t> stack_to_copy(uint64_t lo, uint64_t hi, uint64_t sched_sp, uint64_t syscallsp,
                                            uint32_t base_status) {
  if (hi <= lo) return {0, 0};
  uint64_t sp = sched_sp;
  if (syscallsp != 0 && syscallsp >= lo && syscallsp < sp) sp = syscallsp;
  if (base_status == kGrunning || base_status == kGsyscall || sp < lo || sp >= hi) sp = lo;
  return {sp, hi};
}

// Bytes the stack copies will take, estimated before the stop from a sample of the goroutines (read
// while the target runs: only the size matters), with a margin and room for the threads' stacks.
size_t estimate_stack_bytes(const ProcessMemory& mem, uint64_t allgs, const GLayout& gl) {
  constexpr size_t kBase = 4u << 20, kSample = 512;
  auto ptr = mem.read_u64(allgs);
  auto len = allgs_length(mem, allgs);
  if (!ptr || !len || *len == 0 || *len > (4u << 20)) return kBase;
  const size_t n = *len, step = std::max<size_t>(1, n / kSample);
  std::vector<uint64_t> gps((n + step - 1) / step);
  std::vector<iovec> remote(gps.size()), local(gps.size());
  for (size_t i = 0; i < gps.size(); ++i) {
    remote[i] = {reinterpret_cast<void*>(*ptr + i * step * 8), 8};
    local[i] = {&gps[i], 8};
  }
  std::unique_ptr<bool[]> ok(new bool[gps.size()]());
  mem.read_many(remote, local, std::span<bool>(ok.get(), gps.size()));
  const uint32_t span = std::max({gl.stack_lo, gl.stack_hi, gl.sched_sp, gl.syscallsp, gl.atomicstatus}) + 8;
  std::vector<uint8_t> bytes(gps.size() * span);
  size_t k = 0;
  for (size_t i = 0; i < gps.size(); ++i) {
    if (!ok[i] || gps[i] == 0) continue;
    remote[k] = {reinterpret_cast<void*>(gps[i]), span};
    local[k] = {bytes.data() + k * span, span};
    ++k;
  }
  std::fill(ok.get(), ok.get() + gps.size(), false);
  mem.read_many(std::span<const iovec>(remote.data(), k), std::span<const iovec>(local.data(), k),
                std::span<bool>(ok.get(), k));
  size_t sampled = 0, bytes_used = 0;
  for (size_t i = 0; i < k; ++i) {
    if (!ok[i]) continue;
    auto u64 = [&](uint32_t off) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + i * span + off, 8);
      return v;
    };
    uint32_t status;
    std::memcpy(&status, bytes.data() + i * span + gl.atomicstatus, 4);
    auto [lo, hi] = stack_to_copy(u64(gl.stack_lo), u64(gl.stack_hi), u64(gl.sched_sp), u64(gl.syscallsp),
                                  status & ~uint32_t{kGscan});
    ++sampled;
    if (hi > lo && hi - lo <= (64u << 20)) bytes_used += hi - lo;
  }
  if (sampled == 0) return kBase + n * 1024;
  return kBase + static_cast<size_t>(static_cast<double>(bytes_used) / static_cast<double>(sampled) * 1.25 *
                                     static_cast<double>(n));
}

}  // namespace goperf::unwind

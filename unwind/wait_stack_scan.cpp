// Scanning the parked goroutine's own frames for the runtime objects it waits on (see the header).
#include "unwind/wait_stack_scan.h"

#include <vector>

#include "unwind/memory.h"
#include "unwind/sync_wait.h"

namespace goperf::unwind {

namespace {

// The runtime's parking frames are small; a range past this is torn, and only its start is scanned.
constexpr uint64_t kMaxScan = 4096;

// The words of the stack range [lo, hi), read in one go. Values pointing into the range itself (saved
// frame pointers, addresses of locals) cannot be heap objects and are dropped.
Result<std::vector<uint64_t>> heap_words(const Memory& m, uint64_t lo, uint64_t hi) {
  std::vector<uint64_t> words;
  if (lo == 0 || hi <= lo || (lo & 7) != 0) return words;
  hi = std::min(hi, lo + kMaxScan);
  std::vector<uint64_t> raw((hi - lo) / 8);
  auto s = m.read(lo, std::span<uint8_t>(reinterpret_cast<uint8_t*>(raw.data()), raw.size() * 8));
  if (!s) return s.error().with_context("reading a parked goroutine's frame");
  for (uint64_t w : raw)
    if (w >= 4096 && (w & 7) == 0 && !(w >= lo && w < hi)) words.push_back(w);
  return words;
}

// The stack of frames from..to and of to's caller: with the register ABI (1.17+) a function's arguments
// are spilled into its caller's frame (the spill area above its own fp), where a value live across
// the park may sit too.
Result<std::vector<uint64_t>> frames_words(const Memory& m, std::span<const WaitFrame> frames, size_t from, size_t to) {
  if (to >= frames.size() || from > to) return std::vector<uint64_t>{};
  uint64_t hi = frames[to].fp;
  for (size_t i = to + 1; i < frames.size(); ++i)
    if (frames[i].fp > hi) {  // the next physical frame (inlined frames share their caller's range)
      hi = frames[i].fp;
      break;
    }
  return heap_words(m, frames[from].sp, hi);
}

}  // namespace

Result<std::optional<uint64_t>> sema_on_stack(const Memory& m, uint64_t g, std::span<const WaitFrame> frames,
                                              const WaitLayout& l) {
  size_t at = find_frame(frames, "runtime.semacquire1");
  auto words = frames_words(m, frames, at, at);
  if (!words) return words.error();
  for (uint64_t s : *words) {
    auto sg = m.read_u64(s + l.sudog_g);
    if (!sg || *sg != g) continue;
    auto elem = m.read_u64(s + l.sudog_elem);
    if (elem && *elem != 0) return std::optional<uint64_t>(*elem);
  }
  return std::optional<uint64_t>();
}

Result<std::optional<uint64_t>> cond_on_stack(const Memory& m, uint64_t g, std::span<const WaitFrame> frames,
                                              const WaitLayout& l, WaitLists& lists) {
  size_t at = find_frame(frames, "sync.(*Cond).Wait");  // c is its receiver
  auto words = frames_words(m, frames, at, at);
  if (!words) return words.error();
  for (uint64_t c : *words) {
    auto in = lists.in_notify_list(m, c + l.cond_notify, g, l);
    if (in && *in) return std::optional<uint64_t>(c);
  }
  return std::optional<uint64_t>();
}

Result<std::optional<WaitObject>> poll_desc_on_stack(const Memory& m, uint64_t g, std::span<const WaitFrame> frames,
                                                     const WaitLayout& l) {
  size_t at = find_frame(frames, "internal/poll.runtime_pollWait");
  auto words = frames_words(m, frames, 0, at);
  if (!words) return words.error();
  for (uint64_t pd : *words) {
    auto self = m.read_u64(pd + l.poll_self);
    if (!self || *self != pd) continue;
    auto rg = m.read_u64(pd + l.poll_rg);
    auto wg = m.read_u64(pd + l.poll_wg);
    auto fd = m.read_u64(pd + l.poll_fd);
    if (!rg || !wg || !fd || (*rg != g && *wg != g)) continue;
    WaitObject w;
    w.kind = "fd";
    w.address = pd;
    w.fd = static_cast<int64_t>(*fd);
    w.direction = *rg == g ? "read" : "write";
    return std::optional<WaitObject>(w);
  }
  return std::optional<WaitObject>();
}

}  // namespace goperf::unwind

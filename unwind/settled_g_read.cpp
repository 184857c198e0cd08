// read_settled_g (settled_g_read.h).
#include "unwind/settled_g_read.h"

#include "unwind/goroutine_scan.h"

namespace goperf::unwind {
namespace {

constexpr int kMaxReads = 4;  // of one g: two alike in a row are expected by the second or third

}  // namespace

SettledG read_settled_g(const GoroutineLister& lister, const Memory& memory, uint64_t g_addr) {
  SettledG out;
  auto last = lister.read_g(memory, g_addr);
  if (!last) return out;
  // A goroutine rewritten as it is read is in the middle of a transition of a few instructions: the next
  // read or two agree with each other (and show it dead if it was exiting).
  for (int attempt = 0; attempt < kMaxReads - 1 && !last->is_dead(); ++attempt) {
    auto again = lister.read_g(memory, g_addr);
    if (!again) return out;
    if (head_of(*last).same_as(head_of(*again))) {
      out.g = std::move(*last);
      return out;
    }
    last = std::move(again);
  }
  if (last->is_dead()) {
    out.g = std::move(*last);
    return out;
  }
  out.unsettled = true;
  return out;
}

}  // namespace goperf::unwind

// The measured wait layouts (tests/unit/unwind/wait_layout_test.cpp keeps them equal to the fixtures).
#include "unwind/wait_layout.h"

namespace goperf::unwind {

namespace {

constexpr uint32_t kNone = WaitLayout::kNone;

// Measured by scripts/measure_layouts.sh (tests/fixtures/layouts/go1.19.json, go1.26.json, go1.27.3.json).
// sudog, hchan, timer and pollDesc changed between 1.19 and 1.26; the versions between were not measured, so
// they have no table.
constexpr WaitLayout kLayouts[] = {
    {.go_minor = 19, .g_waiting = 328, .g_timer = 368, .g_sleep_when = kNone,
     .sudog_g = 0, .sudog_next = 8, .sudog_elem = 24, .sudog_waitlink = 64, .sudog_c = 80,
     .hchan_qcount = 0, .hchan_dataqsiz = 8, .hchan_closed = 28, .hchan_timer = kNone, .hchan_recvq = 56,
     .hchan_sendq = 72, .timer_when = 8, .timer_nextwhen = 56, .poll_fd = 8, .poll_rg = 24, .poll_wg = 32, .poll_self = 232,
     .notify_wait = 0, .notify_notify = 4, .notify_head = 16,
     .mutex_sema = 4, .rwmutex_writer_sem = 8, .rwmutex_reader_sem = 12, .rwmutex_reader_count = 16,
     .rwmutex_reader_wait = 20, .waitgroup_state = 0, .waitgroup_sema = 8, .cond_notify = 16,
     .sema_on_waiting = false},
    {.go_minor = 26, .g_waiting = 320, .g_timer = 360, .g_sleep_when = 368,
     .sudog_g = 0, .sudog_next = 8, .sudog_elem = 32, .sudog_waitlink = 72, .sudog_c = 96,
     .hchan_qcount = 0, .hchan_dataqsiz = 8, .hchan_closed = 28, .hchan_timer = 32, .hchan_recvq = 64,
     .hchan_sendq = 80, .timer_when = 24, .poll_fd = 8, .poll_rg = 32, .poll_wg = 40, .poll_self = 288,
     .notify_wait = 0, .notify_notify = 4, .notify_head = 16,
     .mutex_sema = 4, .rwmutex_writer_sem = 8, .rwmutex_reader_sem = 12, .rwmutex_reader_count = 16,
     .rwmutex_reader_wait = 20, .waitgroup_state = 0, .waitgroup_sema = 8, .cond_notify = 16,
     .sema_on_waiting = true},
    {.go_minor = 27, .g_waiting = 320, .g_timer = 360, .g_sleep_when = 368,
     .sudog_g = 0, .sudog_next = 8, .sudog_elem = 32, .sudog_waitlink = 72, .sudog_c = 96,
     .hchan_qcount = 0, .hchan_dataqsiz = 8, .hchan_closed = 28, .hchan_timer = 32, .hchan_recvq = 64,
     .hchan_sendq = 80, .timer_when = 24, .poll_fd = 8, .poll_rg = 32, .poll_wg = 40, .poll_self = 288,
     .notify_wait = 0, .notify_notify = 4, .notify_head = 16,
     .mutex_sema = 4, .rwmutex_writer_sem = 8, .rwmutex_reader_sem = 12, .rwmutex_reader_count = 16,
     .rwmutex_reader_wait = 20, .waitgroup_state = 0, .waitgroup_sema = 8, .cond_notify = 16,
     .sema_on_waiting = true},
};

}  // namespace

const WaitLayout* wait_layout_for(int go_minor) {
  for (const auto& l : kLayouts)
    if (l.go_minor == go_minor) return &l;
  return nullptr;
}

}  // namespace goperf::unwind

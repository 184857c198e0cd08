// Per-thread perf events of the processes a sampler follows, opened the one way both samplers (the perf
// sampler in profiler/ and the eBPF sampler in bpf/) do it: one event per thread, inherited by the
// threads it creates later; a child stopped before exec gets one event that counts from its exec.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>

#include "symbolize/result.h"

namespace goperf::unwind {

// What every per-thread event shares: inherited by the threads created after it is opened, and for a
// child stopped before exec (`before_exec`) disabled until that exec, so that goperf's own start-up of
// the child is not counted.
void set_thread_event_flags(perf_event_attr& attr, bool before_exec);

// perf_event_open(attr) on thread `tid` on `cpu` (-1: any CPU), close-on-exec. The error is kNotFound
// ("thread N gone") when the thread exited, else kPermission or kUnsupported naming the thread and the errno's
// text; `err` (when given) receives the errno, for a caller that explains it further.
Result<int> open_thread_event(perf_event_attr& attr, pid_t tid, int cpu, int* err = nullptr);

// Calls open_on(tid, pid) for each target: the pid alone for a child stopped before exec (its threads
// inherit the event), else every thread, rescanned until no new one appears (attach_threads).
Status open_on_target_threads(std::span<const uint32_t> pids, bool before_exec,
                              const std::function<Status(pid_t tid, uint32_t pid)>& open_on);

}  // namespace goperf::unwind

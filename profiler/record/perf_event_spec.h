// EventSpec: a sampling event named on the command line (-e), resolved to perf_event_attr fields.
// Common perf names (cycles, instructions, cpu-clock, task-clock, ...) are resolved directly; any
// other name goes through libpfm4 (PMU event names such as INST_RETIRED:ANY_P).
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "symbolize/result.h"

namespace goperf::profiler {

struct EventSpec {
  std::string name;        // as shown to the user ("cpu-clock")
  uint32_t type = 1;       // PERF_TYPE_*
  uint64_t config = 0;
  uint64_t config1 = 0;
  uint64_t config2 = 0;
  bool time_based = false; // cpu-clock/task-clock: the period is in nanoseconds
  bool tick = false;       // "tick": CPU time sampled at the scheduler tick (record_sampling.h)
  bool exclude_kernel = false;  // ":u" (perf's modifier, or libpfm4's): samples in user mode only
};

// Resolves an event name. kNotFound for a name neither perf nor libpfm4 knows. perf's modifiers after a
// generic name: ":u" (user mode only) and ":uk" are honoured; any other (":k", ":p", ":h", ...) is refused.
Result<EventSpec> resolve_event(std::string_view name);

// Whether this host can open the event at all (a hardware event on a machine without a PMU cannot).
Status probe_event(const EventSpec& spec);

// 0 when the kernel lets this process open an event of attr on itself (opened disabled, then closed),
// else the errno of perf_event_open: what an event will meet before it is attached to a target.
int try_open_on_self(perf_event_attr attr);

// The default event: cycles where the PMU has it, else cpu-clock. When falling back, *note says why.
EventSpec default_event(std::string* note);

}  // namespace goperf::profiler

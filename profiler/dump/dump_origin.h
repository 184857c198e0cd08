// DumpOrigin: which process a goroutine dump comes from and when it was taken, recorded in the dump's JSON
// so that `snapshot --diff OLD.json` knows whether both are of the same process and how far apart.
#pragma once

#include <cstdint>
#include <string>

namespace goperf::profiler {

struct DumpOrigin {
  int64_t pid = 0;
  double taken_at = 0;            // Unix time in seconds; 0: unknown (a core)
  double process_started_at = 0;  // Unix time in seconds, to 1/CLK_TCK; 0: unknown
};

// The origin of a dump of live process `pid` taken now.
DumpOrigin live_dump_origin(int pid);

// The origin of a core of process `pid`: taken when the kernel (or systemd-coredump) last wrote the core
// file (its modification time; a copy that did not keep it shows the copy's time). The process's start
// time is not in a core: 0.
DumpOrigin core_dump_origin(const std::string& core_path, int64_t pid);

// `"origin":{"pid":..,"taken_at":..,"process_started_at":..},` for a dump's JSON head.
std::string dump_origin_json_field(const DumpOrigin& origin);

// Same process: same pid and the same start time (a pid reused by another process starts later).
bool same_process(const DumpOrigin& a, const DumpOrigin& b);

}  // namespace goperf::profiler

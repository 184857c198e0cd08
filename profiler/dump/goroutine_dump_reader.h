// Reading back a goroutine dump that `goperf snapshot --format json` or `goperf core --format json` wrote,
// as groups (what `snapshot --diff OLD.json` compares with the process now).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/dump/dump_origin.h"
#include "profiler/dump/goroutine_groups.h"
#include "symbolize/result.h"

namespace goperf::profiler {

struct RecordedDump {
  std::string go_version;
  DumpOrigin origin;
  size_t goroutines = 0;              // goroutines in the dump (system ones included)
  std::vector<GoroutineGroup> groups; // grouped at the given level, largest first
};

// Fails with the file's name and what is wrong when it cannot be read or is not such a dump.
Result<RecordedDump> read_goroutine_dump_json(const std::string& path, TracebackLevel level);

}  // namespace goperf::profiler

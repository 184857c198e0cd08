// BuildStamp: what goperf was built as (version, commit, date). kBuildStamp is generated at build time
// (cmake/write_build_stamp.cmake) and linked into the goperf executable only.
#pragma once

namespace goperf::profiler {

struct BuildStamp {
  const char* version;  // project(goperf VERSION ...): "0.1.0"
  const char* commit;   // "c6f250e1a2b3", "c6f250e1a2b3-dirty" (uncommitted changes) or "unknown"
  const char* date;     // UTC build date, "2026-12-06" (SOURCE_DATE_EPOCH's when set)
};

extern const BuildStamp kBuildStamp;

}  // namespace goperf::profiler

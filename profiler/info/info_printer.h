// Printers of `goperf info`: text (whose first block is byte for byte what `go version -m` prints) and
// JSON (build info fields named as `go version -m -json` names them, then goperf's own facts).
#pragma once

#include <string>

#include "profiler/info/info_report.h"

namespace goperf::profiler {

std::string format_info_text(const InfoReport& report);
std::string format_info_json(const InfoReport& report);

// `go version -m`'s block for the build info: "PATH: goVERSION" then each line of
// runtime/debug.BuildInfo.String() but the "go" line, tab-indented.
std::string format_go_version_m(const std::string& path, const symbolize::BuildInfo& build);

}  // namespace goperf::profiler

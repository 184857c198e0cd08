// Durations as users type them on the command line: "10s", "1m", "500ms", "1h30m", "1.5s", or a bare
// number of seconds ("30"), as perf, py-spy and Go's time.ParseDuration read them.
#pragma once

#include <optional>
#include <string_view>

namespace goperf::profiler {

// Seconds; nullopt for text that is no duration (negative, empty, an unknown unit, trailing junk).
std::optional<double> parse_duration_seconds(std::string_view text);

}  // namespace goperf::profiler

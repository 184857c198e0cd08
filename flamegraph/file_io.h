// Whole-file reads and writes with errors that name the file, for readers, writers and `goperf report`.
#pragma once

#include <string>

#include "symbolize/result.h"

namespace goperf::flamegraph {

Result<std::string> read_whole_file(const std::string& path);
// Writes through a temporary file in the same directory renamed over `path`, so a failed write never
// leaves half a profile behind. "-" writes to stdout.
Status write_whole_file(const std::string& path, const std::string& data);

}  // namespace goperf::flamegraph

// ProfileReader: reads any profile `goperf report` accepts, telling pprof (gzip or not) from folded stacks.
#pragma once

#include <string>
#include <string_view>

#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

enum class InputFormat { kAuto, kPprof, kFolded };

// kFormat with a one-line reason for anything that is neither (empty, truncated, binary junk, text that is
// not folded stacks).
Result<Profile> parse_profile(std::string_view bytes, InputFormat format = InputFormat::kAuto);
Result<Profile> read_profile(const std::string& path, InputFormat format = InputFormat::kAuto);

// What parse_profile(kAuto) would read as folded stacks (uncompressed text in that syntax).
bool is_folded_text(std::string_view bytes);

}  // namespace goperf::flamegraph

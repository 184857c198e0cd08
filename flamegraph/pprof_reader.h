// PprofReader: profile.proto bytes (gzip-compressed or not) -> Profile. Reads what goperf, runtime/pprof,
// pprof's own tools and others write: ids in any order, zero-valued fields omitted, locations without lines.
#pragma once

#include <string>
#include <string_view>

#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

// kFormat when the bytes are not a profile, kTruncated when a gzip stream ends early.
Result<Profile> parse_pprof(std::string_view bytes);

Result<Profile> read_pprof_file(const std::string& path);

}  // namespace goperf::flamegraph

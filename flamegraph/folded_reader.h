// FoldedReader: folded stacks ("root;caller;leaf 42" per line, as stackcollapse-*.pl and inferno-collapse
// write them) -> Profile with one "samples/count" value; each distinct frame name is one function.
#pragma once

#include <string>
#include <string_view>

#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

// Blank lines are skipped; any other line without a trailing count is kFormat (with its line number).
// Repeated stacks are summed. Frame names are kept byte for byte (annotations such as "_[k]" included).
Result<Profile> parse_folded(std::string_view text);

Result<Profile> read_folded_file(const std::string& path);

// True when the first non-blank line looks like a folded stack (text ending in a count).
bool looks_folded(std::string_view text);

}  // namespace goperf::flamegraph

// Merging profiles, as `go tool pprof a b` and `-proto a b` do (github.com/google/pprof profile.Merge):
// the same sample types in the same order, samples with the same stack and labels summed, the
// earliest start time, the durations added, the largest period.
#pragma once

#include <string>
#include <vector>

#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

// `names` (one per profile) are used in the error for profiles that cannot be merged (other sample types).
Result<Profile> merge_profiles(std::vector<Profile> profiles, const std::vector<std::string>& names);

}  // namespace goperf::flamegraph

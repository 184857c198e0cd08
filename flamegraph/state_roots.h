// State root frames for goroutine-state profiles (`goperf record -e goroutines`): each sample's `state`
// label becomes a frame "[state]" at the root of its stack ("[chan receive]", "[running]", ...), so
// that a flame graph splits first by what the goroutines were doing, and each state gets its colour.
#pragma once

#include "flamegraph/profile.h"

namespace goperf::flamegraph {

// A goroutine-state profile: its first sample type is goroutines/count.
bool is_goroutine_state_profile(const Profile& profile);

// Adds the root frames to a goroutine-state profile; leaves any other profile as it is.
void add_state_roots(Profile& profile);

}  // namespace goperf::flamegraph

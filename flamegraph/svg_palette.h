// SvgPalette: frame colours. Go-aware: one hue per FrameKind, varied by a hash of the name so neighbours
// differ; inlined frames lighter; diff mode white -> red (grew) / blue (shrank), as flamegraph.pl's.
#pragma once

#include <cstdint>
#include <string_view>

#include "flamegraph/frame_kind.h"

namespace goperf::flamegraph {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

Rgb frame_color(FrameKind kind, std::string_view name, bool inlined);

// `change` in [-1, 1]: the frame's change relative to the largest change in the graph.
Rgb diff_color(double change);

// Merged narrow frames and the root.
Rgb neutral_color();

// "#rrggbb" into `out` (7 chars, no terminator).
void format_rgb(Rgb c, char* out);

}  // namespace goperf::flamegraph

// SvgPalette: hues follow flamegraph.pl's conventions where they exist (kernel orange, C-ish purple/yellow,
// managed code green) so its users read goperf's graphs without a legend.
#include "flamegraph/svg_palette.h"

#include <algorithm>
#include <cmath>

namespace goperf::flamegraph {
namespace {

// FNV-1a: stable across runs and platforms, so a function keeps its colour between graphs.
double name_hash(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return static_cast<double>(h % 1000) / 1000.0;
}

uint8_t clamp8(double v) { return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)); }

}  // namespace

Rgb frame_color(FrameKind kind, std::string_view name, bool inlined) {
  const double v = name_hash(name);
  const double w = 1.0 - v;
  double r, g, b;
  switch (kind) {
    case FrameKind::kProgram: r = 60 + 50 * v; g = 170 + 60 * w; b = 90 + 50 * v; break;     // green
    case FrameKind::kStdlib: r = 190 + 55 * v; g = 185 + 45 * v; b = 55 + 40 * w; break;     // yellow
    case FrameKind::kRuntime: r = 215 + 40 * v; g = 60 + 50 * w; b = 60 + 40 * v; break;     // red
    case FrameKind::kNative: r = 150 + 50 * v; g = 110 + 40 * w; b = 200 + 55 * v; break;    // purple
    case FrameKind::kKernel: r = 230 + 25 * v; g = 140 + 50 * w; b = 20 + 40 * v; break;     // orange
    case FrameKind::kState: {  // one hue per state, all around the wheel, so states tell apart at a glance
      const double h = v * 6.0, x = 1.0 - std::fabs(std::fmod(h, 2.0) - 1.0);
      const int sector = static_cast<int>(h) % 6;
      const double c[6][3] = {{1, x, 0}, {x, 1, 0}, {0, 1, x}, {0, x, 1}, {x, 0, 1}, {1, 0, x}};
      r = 90 + 150 * c[sector][0];
      g = 90 + 150 * c[sector][1];
      b = 90 + 150 * c[sector][2];
      break;
    }
    default: r = g = b = 170 + 30 * v; break;                                                  // grey
  }
  if (inlined) {
    // Lighter: an inlined call has no frame of its own at run time.
    r += (255 - r) * 0.45;
    g += (255 - g) * 0.45;
    b += (255 - b) * 0.45;
  }
  return {clamp8(r), clamp8(g), clamp8(b)};
}

Rgb diff_color(double change) {
  const double a = std::min(1.0, std::fabs(change));
  // Unchanged frames are near white; the largest change is fully saturated.
  const uint8_t fade = clamp8(225 * (1.0 - a));
  if (change > 0) return {255, fade, fade};
  if (change < 0) return {fade, fade, 255};
  return {235, 235, 235};
}

Rgb neutral_color() { return {200, 200, 205}; }

void format_rgb(Rgb c, char* out) {
  static const char* hex = "0123456789abcdef";
  out[0] = '#';
  out[1] = hex[c.r >> 4];
  out[2] = hex[c.r & 15];
  out[3] = hex[c.g >> 4];
  out[4] = hex[c.g & 15];
  out[5] = hex[c.b >> 4];
  out[6] = hex[c.b & 15];
}

}  // namespace goperf::flamegraph

// SvgWriter: the interactive flame graph, one self-contained SVG file: hover tooltip (name, value, share),
// click to zoom and reset, Ctrl-F regex search with the matched share, state kept in the URL's #hash,
// Go-aware colours, inlined frames marked, frames narrower than min_width merged. Diff mode when a base
// profile is given: widths from the profile, colours from the change (red grew, blue shrank).
#pragma once

#include <string>

#include "flamegraph/call_tree.h"
#include "flamegraph/profile_writer.h"

namespace goperf::flamegraph {

struct SvgOptions {
  std::string title = "Flame Graph";
  std::string subtitle;         // a second line under the title ("" for none)
  int width = 1200;             // pixels
  double min_width = 0.1;       // pixels; narrower sibling runs become one "merged" frame, or go
  bool inverted = false;        // icicle: the root at the top, callees below
  TreeOptions tree;             // value, function:line, reverse
  const Profile* base = nullptr;  // diff against this profile (not owned)
};

// Layout constants shared with tests: frames are kFrameHeight tall, kPadX from either side.
inline constexpr int kSvgFrameHeight = 16;
inline constexpr int kSvgPadX = 10;

class SvgWriter : public ProfileWriter {
 public:
  explicit SvgWriter(SvgOptions options) : options_(std::move(options)) {}
  Status write(const Profile& profile, std::string& out) const override;
  // Renders a tree built (and, for a diff, given its base) by the caller; children get sorted.
  Status write_tree(CallTree& tree, std::string& out) const;

 private:
  SvgOptions options_;
};

// The JavaScript and CSS embedded in every SVG (svg_script.cpp).
extern const char* const kSvgScript;
extern const char* const kSvgStyle;

}  // namespace goperf::flamegraph

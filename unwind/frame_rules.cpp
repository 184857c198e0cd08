// frame_rules(Arch): the one place that picks an architecture's FrameRules.
#include "unwind/frame_rules.h"

namespace goperf::unwind {

const FrameRules& frame_rules(Arch arch) {
  switch (arch) {
    case Arch::kArm64: return arm64_frame_rules();
    case Arch::kAmd64: break;
  }
  return amd64_frame_rules();
}

}  // namespace goperf::unwind

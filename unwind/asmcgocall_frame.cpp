// asmcgocall_saved(Arch): the one place that picks an architecture's asmcgocall frame.
#include "unwind/asmcgocall_frame.h"

namespace goperf::unwind {

std::optional<AsmcgocallSaved> asmcgocall_saved(Arch arch) {
  return arch == Arch::kArm64 ? arm64_asmcgocall_saved() : amd64_asmcgocall_saved();
}

}  // namespace goperf::unwind

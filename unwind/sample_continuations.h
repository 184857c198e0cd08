// The continuations of a sample's walk onto a stack the sampled copy does not hold (sample_unwinder.h):
// each takes the frames walked so far (out[0, result.count)) and returns the result with more frames, or
// `result` unchanged when its rule does not apply or does not check out. They key on symbolize::FuncKind.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "symbolize/pclntab.h"
#include "unwind/sample_unwinder.h"

namespace goperf::unwind {

struct SampleUnwinder::State {
  std::optional<GoroutineLister> lister;  // reads g and m with target.layout
  const GoRuntimeLayout* lister_layout = nullptr;
};

// Under runtime.asmcgocall: the goroutine's frames from the kernel's walk at the sample, or read live where
// that says nothing (cgo_continuation.cpp); `arch` is the sample's, which says where asmcgocall saved the
// goroutine (asmcgocall_frame.h).
WalkResult continue_after_cgo(const SampleTarget& target, const Memory& window, const RawSample& s, Arch arch,
                              std::span<PhysicalFrame> out, WalkResult result);
// From the system stack to m.curg, read live (curg_continuation.cpp).
WalkResult continue_on_curg(const SampleTarget& target, const GoroutineLister& lister, const RawSample& s,
                            std::span<PhysicalFrame> out, WalkResult result);
// Above a vDSO caller whose frame is on the goroutine stack: its callers from the kernel's frame-pointer
// walk at the sample (s.user_chain; vdso_continuation.cpp), where the sample's architecture keeps the vDSO
// caller's frame record there (vdso_callers_from_kernel_walk).
WalkResult continue_after_vdso(const SampleTarget& target, const RawSample& s, std::span<PhysicalFrame> out,
                               WalkResult result);

// The kind of the Go function a frame is in (its pc, or pc-1 for a return address); nullopt when not Go.
std::optional<symbolize::FuncInfo> go_function_at(const AddressSpace& space, const PhysicalFrame& frame);

}  // namespace goperf::unwind

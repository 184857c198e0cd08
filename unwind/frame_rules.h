// FrameRules: how one architecture lays out a Go frame's return address and the caller's frame pointer,
// the rules StackWalker cannot state without knowing the calling convention (src/runtime/traceback.go
// unwinder.next: "x86: the return address is just above the frame"; LR machines: "the caller's LR was
// saved at the bottom of the frame"). One implementation per architecture: frame_rules_amd64.cpp,
// frame_rules_arm64.cpp; a new architecture is a new file and one line in frame_rules(Arch).
#pragma once

#include <cstdint>
#include <optional>

#include "unwind/register_set.h"

namespace goperf::unwind {

class Memory;

// A Go frame at sp whose pcsp delta (funcspdelta) is `delta`, and the registers the walk carries.
struct GoFrameAt {
  uint64_t sp = 0;
  uint64_t cfa = 0;        // sp + delta, or where vdso_caller_cfa puts the frame
  int32_t delta = 0;
  bool innermost = false;  // the frame's pc came from registers: LR may still hold its return address
  uint64_t lr = 0;         // the walk's LR (arm64), 0 on amd64
  uint64_t fp = 0;         // the walk's frame pointer register
};

// Its caller: where the caller resumes, the caller's sp, and the frame pointer the caller runs with.
struct GoCaller {
  uint64_t pc = 0;
  uint64_t sp = 0;
  uint64_t fp = 0;
};

class FrameRules {
 public:
  virtual ~FrameRules() = default;

  // Bytes a call leaves between the caller's sp and the callee's frame: the pushed return address
  // (amd64 CALL), or none (arm64 BL puts it in LR).
  virtual uint64_t call_bytes() const = 0;
  // The caller of a Go frame (traceback.go unwinder.next). nullopt when its return address is unreadable.
  virtual std::optional<GoCaller> go_caller(const Memory& memory, const GoFrameAt& frame) const = 0;
  // The frame below an injected call (sigpanic, asyncPreempt, debugCallV2) starts `cfa` bytes up
  // (unwinder.next, "the injected call's frame sits on an aligned extra word" on LR machines); may
  // update lr to the interrupted function's LR.
  virtual uint64_t after_injected_call(const Memory& memory, uint64_t cfa, uint64_t& lr) const = 0;
  // A vDSO caller (FuncKind::kVdsoCall) past its prologue that moved sp to g0's stack for the call: its
  // CFA from the frame pointer, when the architecture's vDSO callers keep one (sys_linux_amd64.s
  // nanotime1: PUSHQ BP; MOVQ SP, BP), else nullopt.
  virtual std::optional<uint64_t> vdso_caller_cfa(int32_t delta, uint64_t fp, uint64_t pcsp_cfa) const = 0;
  // Where a vDSO function interrupted before its frame is set up keeps its return address, in the order
  // to try: at sp, or above a just-pushed frame pointer. `pushed_fp` says whether the word at sp is fp.
  // Writes up to two candidate addresses to `slots`; returns how many (0: the architecture's vDSO
  // functions cannot be stepped through this way).
  virtual int vdso_leaf_return_slots(uint64_t sp, bool pushed_fp, uint64_t slots[2]) const = 0;
};

const FrameRules& frame_rules(Arch arch);
const FrameRules& amd64_frame_rules();
const FrameRules& arm64_frame_rules();

}  // namespace goperf::unwind

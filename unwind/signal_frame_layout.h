// SignalFrameLayout: where the kernel's rt_sigframe of one architecture keeps the interrupted registers
// and the siginfo. One implementation per architecture (signal_frame_layout_amd64.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "unwind/register_set.h"
#include "unwind/signal_frame.h"

namespace goperf::unwind {

class Memory;

class SignalFrameLayout {
 public:
  virtual ~SignalFrameLayout() = default;
  // Bytes from the handler's return address (the sa_restorer the kernel pushed) to the ucontext.
  virtual uint64_t ucontext_after_restorer() const = 0;
  // The interrupted thread's registers from the ucontext at `uc`; false when unreadable or empty.
  virtual bool read_context(const Memory& memory, uint64_t uc, RegisterSet& regs) const = 0;
  virtual std::optional<CrossedSignal> read_siginfo(const Memory& memory, uint64_t uc) const = 0;
};

// nullptr: signal frames of this architecture are not crossed yet.
const SignalFrameLayout* signal_frame_layout(Arch arch);
const SignalFrameLayout& amd64_signal_frame_layout();

}  // namespace goperf::unwind

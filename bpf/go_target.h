// Go runtime facts the eBPF program needs about a target: the layout of its g and m (from its Go version,
// and verified against a live process's goroutines by unwind::GoTarget) and where the runtime keeps g
// relative to the thread pointer (unwind::tls_g_offset, from the executable's PT_TLS segment).
#pragma once

#include <sys/types.h>

#include <string>

#include "bpf/bpf_sampler.h"
#include "symbolize/result.h"

namespace goperf::bpf {

// Sets options' layout and TLS slot for the executable at exe_path (a program about to be started: the
// version's table, nothing to verify it against). Returns a warning to show the user ("" when none):
// not a Go program, unknown Go version.
Result<std::string> configure_for_executable(BpfSamplerOptions& options, const std::string& exe_path);
// The same for a live process, through unwind::GoTarget: the file it mapped, opened through the process,
// and the layout checked against its goroutines. A layout that fits none of them is a warning (the
// profile is still taken; goroutine ids and labels may be wrong), in GoTarget's words.
Result<std::string> configure_for_process(BpfSamplerOptions& options, pid_t pid);

}  // namespace goperf::bpf

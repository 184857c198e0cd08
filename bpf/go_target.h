// Go runtime facts the eBPF program needs about a target executable, found in the executable itself:
// its Go version (buildinfo) selects the g/m offsets (unwind::GoRuntimeLayout), its PT_TLS segment
// gives where the runtime keeps g relative to the thread pointer (unwind::tls_g_offset).
#pragma once

#include <sys/types.h>

#include <string>

#include "bpf/bpf_sampler.h"
#include "symbolize/result.h"

namespace goperf::bpf {

// Fills options' Go runtime fields for the executable at exe_path (a program about to be started).
// Returns a warning to show the user ("" when none): not a Go program, unknown Go version.
Result<std::string> configure_for_executable(BpfSamplerOptions& options, const std::string& exe_path);
// The same for the executable a live process runs: the file it mapped, opened through the process and
// checked to be that one (unwind/mapped_file.h), whatever has become of its path since it started.
Result<std::string> configure_for_process(BpfSamplerOptions& options, pid_t pid);

}  // namespace goperf::bpf

// Go runtime facts the eBPF program needs about a target executable, found in the executable itself:
// its Go version (buildinfo) selects the g/m offsets (unwind::GoRuntimeLayout), its PT_TLS segment
// gives where the runtime keeps g relative to the thread pointer.
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

// The offset of g from the thread pointer (fs_base) for an executable whose PT_TLS segment has this
// size and alignment: the executable's TLS block ends at the thread pointer (x86-64 TLS variant II) and
// runtime.tlsg is its first variable (src/cmd/link/internal/ld/sym.go sets Tlsoffset = -8 for the
// internal linker, which is this formula for an 8-byte block). No PT_TLS: -8.
int64_t tls_g_offset(uint64_t tls_memsz, uint64_t tls_align);

}  // namespace goperf::bpf

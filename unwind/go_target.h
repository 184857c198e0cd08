// GoTarget: one Go program whose goroutines goperf reads (a live process or a core), opened once: its
// Go module and load bias, the runtime layout chosen for its Go version AND verified against its own g's,
// the runtime globals, the goroutine lister with the binary's wait reasons, and the rule that finds the
// g a thread runs. snapshot, core, record -e goroutines and the eBPF loader all start here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symbolize/result.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"
#include "unwind/runtime_globals.h"

namespace goperf::symbolize {
class Module;
}

namespace goperf::unwind {

class AddressSpace;
class Memory;
class ProcessMemory;
struct RegisterSet;

class GoTarget {
 public:
  // The Go module `module` loaded at `bias` in `memory`. `who` names the target in messages
  // ("process 123", "the core"). Fails with kNotFound when the runtime's goroutine list cannot be
  // located in the binary, and with the layout_mismatch() wording when no known layout fits its g's.
  // module and memory must outlive the target.
  static Result<std::unique_ptr<GoTarget>> open(const Memory& memory, const symbolize::Module& module,
                                                uint64_t bias, std::string who);
  // A live process: its address space (files opened through the process, unwind/mapped_file.h), its
  // memory (process_vm_readv) and the above for its first Go module, read without stopping it. The
  // target owns the address space and the memory.
  static Result<std::unique_ptr<GoTarget>> open_process(pid_t pid);

  ~GoTarget();
  GoTarget(const GoTarget&) = delete;
  GoTarget& operator=(const GoTarget&) = delete;

  const symbolize::Module& module() const { return module_; }
  uint64_t bias() const { return bias_; }
  const std::string& who() const { return who_; }
  const std::string& go_version() const { return go_version_; }  // "" when the build info is absent
  int go_minor() const { return go_minor_; }                      // of the build info; 0 when unknown
  const GoRuntimeLayout& layout() const { return *choice_.layout; }
  const LayoutChoice& layout_choice() const { return choice_; }
  // How the layout was chosen, for the user ("" for the measured table of the program's own version).
  const std::string& layout_note() const { return note_; }
  const RuntimeGlobals& globals() const { return globals_; }
  const GoroutineLister& lister() const { return *lister_; }
  // Candidate TLS slots of g, the likeliest first (unwind/tls_g.h).
  const std::vector<int64_t>& tls_g_offsets() const { return tls_; }
  // The g the thread with these registers runs: R14 when its pc is in ABIInternal Go code, else the TLS
  // slot (current_g in goroutine_lister.h). `memory` may be a copy of the target's (a snapshot's cache).
  Result<ThreadG> current_g(const Memory& memory, const RegisterSet& regs) const;
  // A goroutine the runtime starts for itself, hidden below GOTRACEBACK=system (unwind/system_goroutine.h);
  // startpc is a runtime address.
  bool is_system_goroutine(uint64_t startpc) const;

  // Live processes only (open_process); null otherwise.
  AddressSpace* space() const { return space_.get(); }
  const ProcessMemory* process_memory() const { return process_.get(); }
  const Memory& memory() const { return memory_; }

  // The one-line error when no known layout fits the target's goroutines; record's eBPF backend
  // prints the same words as a warning.
  static std::string layout_mismatch(const std::string& who, const std::string& why);

 private:
  GoTarget(const Memory& memory, const symbolize::Module& module, uint64_t bias, std::string who);

  std::unique_ptr<AddressSpace> space_;
  std::unique_ptr<ProcessMemory> process_;
  const Memory& memory_;
  const symbolize::Module& module_;
  uint64_t bias_ = 0;
  std::string who_, go_version_, note_;
  int go_minor_ = 0;
  LayoutChoice choice_;
  RuntimeGlobals globals_;
  std::unique_ptr<GoroutineLister> lister_;
  std::vector<int64_t> tls_;
};

}  // namespace goperf::unwind

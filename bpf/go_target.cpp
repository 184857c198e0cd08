// The layout and TLS slot of a target executable (a file, or the one a live process mapped), for the
// eBPF program's rodata.
#include "bpf/go_target.h"

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/go_target.h"
#include "unwind/goroutine_lister.h"
#include "unwind/process_memory.h"
#include "unwind/tls_g.h"

namespace goperf::bpf {

namespace {

// The version's table, unverified. Returns the note for the user.
std::string configure_for_elf(BpfSamplerOptions& options, const symbolize::ElfFile& elf) {
  options.tls_g_offset = unwind::tls_g_offset(unwind::tls_segment(elf));
  auto info = symbolize::BuildInfo::read(elf);
  if (!info) return "no Go build information in " + elf.path() + ": goroutine ids and labels are not recorded";
  auto choice = unwind::layout_for_go_minor(info->minor_version());
  options.layout = choice.layout;
  if (!choice.exact_version) {
    return "no runtime layout for " + info->go_version + ": using Go 1." + std::to_string(choice.layout->go_minor) +
           "'s for goroutine ids and labels";
  }
  return "";
}

}  // namespace

Result<std::string> configure_for_executable(BpfSamplerOptions& options, const std::string& exe_path) {
  auto elf = symbolize::ElfFile::open(exe_path);
  if (!elf) return std::move(elf).error();
  return configure_for_elf(options, **elf);
}

Result<std::string> configure_for_process(BpfSamplerOptions& options, pid_t pid) {
  auto space = unwind::AddressSpace::for_process(pid);
  if (!space) return std::move(space).error();
  auto exe = (*space)->executable();
  if (!exe) return std::move(exe).error();
  std::string note = configure_for_elf(options, exe->module->elf());
  if (exe->module->build_info() == nullptr) return note;
  unwind::ProcessMemory memory(pid);
  auto target = unwind::GoTarget::open(memory, *exe->module, exe->bias, "process " + std::to_string(pid));
  // No goroutine list to check against (a Go shared library, an unknown code shape): the table stays.
  if (!target && target.error().code() == ErrorCode::kNotFound) return note;
  if (!target) return target.error().message() + ": goroutine ids and labels may be wrong";
  // The check's word replaces the version-only one (it says which table was found to fit, and how).
  options.layout = &(*target)->layout();
  options.tls_g_offset = unwind::tls_g_offset(unwind::tls_segment((*target)->module().elf()));
  return (*target)->layout_note();
}

}  // namespace goperf::bpf

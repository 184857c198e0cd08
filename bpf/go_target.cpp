// Go version and TLS slot of a target executable (a file, or the one a live process mapped), for the
// eBPF program's rodata.
#include "bpf/go_target.h"

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"
#include "unwind/process_memory.h"
#include "unwind/runtime_globals.h"
#include "unwind/tls_g.h"

namespace goperf::bpf {

namespace {

Result<std::string> configure_for_elf(BpfSamplerOptions& options, const symbolize::ElfFile& elf) {
  options.tls_g_offset = unwind::tls_g_offset(unwind::tls_segment(elf));
  auto info = symbolize::BuildInfo::read(elf);
  if (!info) {
    return std::string("no Go build information in " + elf.path() +
                       ": goroutine ids and labels are not recorded");
  }
  auto choice = unwind::layout_for_go_minor(info->minor_version());
  set_go_offsets(options, *choice.layout);
  if (!choice.exact_version) {
    return std::string("no runtime layout for " + info->go_version + ": using Go 1." +
                       std::to_string(choice.layout->go_minor) + "'s for goroutine ids and labels");
  }
  return std::string();
}

}  // namespace

Result<std::string> configure_for_executable(BpfSamplerOptions& options, const std::string& exe_path) {
  auto elf = symbolize::ElfFile::open(exe_path);
  if (!elf) return std::move(elf).error();
  return configure_for_elf(options, **elf);
}

namespace {

// A live Go process: the table chosen by version is checked against its goroutines (read without
// stopping it) before its offsets go into the eBPF program; another known table where it does not fit
// (unwind::verify_layout). Returns the note to print ("" when the version's measured table fits).
std::string verify_for_process(BpfSamplerOptions& options, pid_t pid, const unwind::ModuleRef& exe) {
  const symbolize::BuildInfo* bi = exe.module->build_info();
  if (bi == nullptr) return "";
  auto globals = unwind::find_runtime_globals(*exe.module);
  if (!globals) return "";  // no goroutine list to check against: the table stays as chosen
  unwind::ProcessMemory memory(pid);
  auto verified = unwind::verify_layout(memory, *globals, exe.bias, bi->minor_version());
  if (!verified) {
    return "the Go runtime layout does not fit process " + std::to_string(pid) + "'s goroutines (" +
           verified.error().message() + "): goroutine ids and labels may be wrong";
  }
  set_go_offsets(options, *verified->layout);
  return unwind::layout_note(*verified, bi->minor_version(), true);
}

}  // namespace

Result<std::string> configure_for_process(BpfSamplerOptions& options, pid_t pid) {
  auto space = unwind::AddressSpace::for_process(pid);
  if (!space) return std::move(space).error();
  auto exe = (*space)->executable();
  if (!exe) return std::move(exe).error();
  auto note = configure_for_elf(options, exe->module->elf());
  if (!note) return note;
  // The check's word replaces the version-only one (it says which table was found to fit, and how).
  std::string checked = verify_for_process(options, pid, *exe);
  return checked.empty() ? *note : checked;
}

}  // namespace goperf::bpf

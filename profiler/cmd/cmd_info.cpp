// goperf info: what a Go binary (or a live process's executable) says about itself.

#include <cstdio>
#include <string>

#include "profiler/commands.h"
#include "profiler/process_owner.h"
#include "profiler/options/info_options.h"
#include "profiler/info/info_printer.h"
#include "profiler/info/info_report.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/address_space.h"
#include "unwind/process_status.h"

namespace goperf::profiler {
namespace {

// The executable a live process runs: the file it mapped, opened through the process and checked to be
// that one (unwind/mapped_file.h), even when its path was deleted or replaced since the start.
Result<std::shared_ptr<const symbolize::Module>> process_executable(int pid) {
  // A missing process, a kernel thread, a zombie or a thread id: the same words as every command.
  if (auto usable = unwind::check_target_process(pid); !usable) return std::move(usable).error();
  if (auto advice = other_user_advice(pid, "info -p " + std::to_string(pid)); !advice.empty())
    return make_error(ErrorCode::kPermission, advice);
  auto space = unwind::AddressSpace::for_process(pid);
  if (!space) return std::move(space).error();
  auto exe = (*space)->executable();
  if (!exe) return std::move(exe).error();
  // A Module of its own over the same file: the AddressSpace's ends with the AddressSpace.
  return symbolize::Module::from_elf(exe->module->elf_ptr());
}

}  // namespace

int run_info(const Args& args) {
  InfoOptions o;
  if (!parse_info_options(args, o)) return 0;
  auto module = o.pid > 0 ? process_executable(o.pid) : symbolize::Module::open(o.binary);
  if (!module.ok()) {
    std::fprintf(stderr, "goperf info: %s\n", module.error().message().c_str());
    return 1;
  }
  // A process's executable is named as the process shows it (" (deleted)" included).
  auto report = collect_info(**module, o.pid > 0 ? (*module)->elf().path() : o.binary);
  if (!report.ok()) {
    std::fprintf(stderr, "goperf info: %s\n", report.error().message().c_str());
    return 1;
  }
  std::string text = o.json ? format_info_json(*report) : format_info_text(*report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace goperf::profiler

// GoTarget: the set-up every reader of a Go program's goroutines shares, written once: build info ->
// runtime globals -> layout (verified against the target's own g's) -> goroutine lister and wait
// reasons -> TLS slots of g.
#include "unwind/go_target.h"

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/process_memory.h"
#include "unwind/process_status.h"
#include "unwind/register_set.h"
#include "unwind/system_goroutine.h"

namespace goperf::unwind {

namespace {

// Why a process has no Go module to read: a file it runs that cannot be shown to be the one mapped is
// not read, and that is what the user must hear, not "not Go".
Error not_go_error(const AddressSpace& space, const std::string& who_named) {
  if (auto exe = space.executable(); !exe) return make_error(exe.error().code(), who_named + ": " + exe.error().message());
  auto unusable = space.open_failures();
  if (!unusable.empty()) {
    return make_error(ErrorCode::kFormat, who_named + ": no Go pclntab in the files that could be read; " +
                                              unusable.front().message());
  }
  return make_error(ErrorCode::kFormat, who_named + " is not a Go program: no Go pclntab in its executable or libraries");
}

}  // namespace

GoTarget::GoTarget(const Memory& memory, const symbolize::Module& module, uint64_t bias, std::string who)
    : memory_(memory), module_(module), bias_(bias), who_(std::move(who)) {}

GoTarget::~GoTarget() = default;

std::string GoTarget::layout_mismatch(const std::string& who, const std::string& why) {
  return "the Go runtime layout does not fit " + who + "'s goroutines (" + why + ")";
}

Result<std::unique_ptr<GoTarget>> GoTarget::open(const Memory& memory, const symbolize::Module& module, uint64_t bias,
                                                  std::string who) {
  std::unique_ptr<GoTarget> t(new GoTarget(memory, module, bias, std::move(who)));
  if (const symbolize::BuildInfo* bi = module.build_info()) {
    t->go_version_ = bi->go_version;
    t->go_minor_ = bi->minor_version();
  }
  auto globals = find_runtime_globals(module);
  if (!globals) {
    return make_error(ErrorCode::kNotFound,
                      "cannot find the goroutine list in " + module.elf().path() + ": " + globals.error().message());
  }
  t->globals_ = *globals;
  // The table for this Go version, checked against the target's own g's (a live process is not stopped:
  // a parked g's fields do not move) before it is trusted; another known table where it does not fit.
  auto choice = verify_layout(memory, t->globals_, bias, t->go_minor_);
  if (!choice) return make_error(choice.error().code(), layout_mismatch(t->who_, choice.error().message()));
  t->choice_ = *choice;
  t->note_ = unwind::layout_note(t->choice_, t->go_minor_, true);
  t->lister_ = std::make_unique<GoroutineLister>(*t->choice_.layout, t->globals_, bias, find_wait_reasons(module.elf()));
  t->tls_ = unwind::tls_g_offsets(module.elf());
  return t;
}

Result<std::unique_ptr<GoTarget>> GoTarget::open_process(pid_t pid) {
  if (auto usable = check_target_process(pid); !usable) return std::move(usable).error();
  const std::string who = "process " + std::to_string(pid);
  auto space = AddressSpace::for_process(pid);
  if (!space) return std::move(space).error();
  auto go = (*space)->go_module();
  if (!go) return not_go_error(**space, who + " (" + read_process_status(pid).name + ")");
  auto memory = std::make_unique<ProcessMemory>(pid);
  auto target = open(*memory, *go->module, go->bias, who);
  if (!target) return target;
  (*target)->space_ = std::move(*space);
  (*target)->process_ = std::move(memory);
  return target;
}

Result<ThreadG> GoTarget::current_g(const Memory& memory, const RegisterSet& regs) const {
  // R14 holds g only in functions compiled with ABIInternal: Go code that is not assembly.
  auto f = module_.pclntab()->find_func(regs.pc - bias_);
  const bool in_go = f.has_value() && !(f->flag & symbolize::Pclntab::kFlagAsm);
  return unwind::current_g(memory, regs, in_go, layout(), tls_);
}

bool GoTarget::is_system_goroutine(uint64_t startpc) const {
  return unwind::is_system_goroutine(*module_.pclntab(), startpc - bias_);
}

}  // namespace goperf::unwind

// Doctor -p: which program the process runs, read from the file it mapped (unwind/mapped_file.h), and
// whether goperf can use that file: a binary deleted or replaced since the start is read through the
// process, and a file that cannot be shown to be the mapped one is not used.
#include <string>

#include "profiler/doctor/doctor_checks.h"
#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "profiler/info/info_report.h"
#include "unwind/address_space.h"
#include "unwind/go_runtime_layout.h"

namespace goperf::profiler {

std::vector<CheckResult> check_target(const DoctorContext& c) {
  if (c.pid == 0) return {};
  auto result = [](CheckState s, std::string detail, std::string fix = "") {
    return CheckResult{"target", "executable", s, std::move(detail), std::move(fix)};
  };
  const std::string who = "process " + std::to_string(c.pid);
  auto space = unwind::AddressSpace::for_process(c.pid);
  if (!space) {
    return {result(CheckState::kFail, space.error().message(),
                   space.error().code() == ErrorCode::kPermission
                       ? "run `sudo goperf doctor -p " + std::to_string(c.pid) +
                             "` (or goperf as the process's user), or `sudo setcap cap_sys_ptrace+ep $(command -v goperf)`"
                       : "check the PID (`pgrep -a NAME`)")};
  }
  auto exe = (*space)->executable();
  if (!exe) {
    return {result(CheckState::kFail, exe.error().message(),
                   "run goperf as root: CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) opens the mapped file itself "
                   "through /proc/PID/map_files")};
  }
  const symbolize::Module& m = *exe->module;
  std::string runs = who + " runs " + m.elf().path();
  std::string ids = m.elf().gnu_build_id();
  if (ids.empty()) ids = m.elf().go_build_id();
  if (!ids.empty()) ids = ", build id " + ids;
  if (!m.is_go()) return {result(CheckState::kWarn, runs + ": not a Go program (no Go pclntab)" + ids)};
  const symbolize::BuildInfo* bi = m.build_info();
  std::string version = bi ? bi->go_version : std::string("unknown Go version");
  // Where goperf's table of the runtime's structures for this version comes from (measured or derived):
  // snapshot and core check a derived one against the goroutines before use (docs/runtime_layouts.md).
  auto layout = unwind::layout_for_go_minor(bi ? bi->minor_version() : 0);
  std::string table = "; runtime layout " + describe_runtime_layout(bi ? bi->minor_version() : 0);
  CheckState state = layout.exact_version ? CheckState::kOk : CheckState::kWarn;
  return {result(state, runs + ": " + version + ids + table)};
}

}  // namespace goperf::profiler

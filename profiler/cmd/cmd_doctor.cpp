// goperf doctor [-p PID] [--json]: runs every check of doctor_checks.h and prints one line per check, with the
// fix; exits 1 when any check says FIX.
#include <cstdio>
#include <string>

#include "profiler/commands.h"
#include "profiler/doctor/doctor_checks.h"
#include "profiler/json_string.h"
#include "profiler/options/doctor_options.h"
#include "unwind/process_status.h"

namespace goperf::profiler {
namespace {

std::string state_key(CheckState s) {
  switch (s) {
    case CheckState::kOk: return "ok";
    case CheckState::kWarn: return "warn";
    case CheckState::kFail: return "fix";
  }
  return "?";
}

// {"pid":..,"checks":[{"area","name","state","detail","fix"}],"fix_count":..}: the text's lines, one object each.
std::string doctor_json(int pid, const std::vector<CheckResult>& results, int failed) {
  std::string o = "{\"pid\":" + std::to_string(pid) + ",\"checks\":[";
  for (size_t i = 0; i < results.size(); i++) {
    const auto& r = results[i];
    o += i == 0 ? "\n" : ",\n";
    o += "{\"area\":" + json_string(r.area) + ",\"name\":" + json_string(r.name) + ",\"state\":" +
         json_string(state_key(r.state)) + ",\"detail\":" + json_string(r.detail) + ",\"fix\":" + json_string(r.fix) + "}";
  }
  return o + "\n],\"fix_count\":" + std::to_string(failed) + "}\n";
}

}  // namespace

int run_doctor(const Args& args) {
  DoctorOptions o;
  if (!parse_doctor_options(args, o)) return 0;
  const int pid = o.pid;
  const bool json = o.json;
  auto ctx = current_doctor_context(pid);
  if (pid != 0) {
    // A kernel thread or a zombie has no limits or core filter worth changing: the checks would suggest fixes
    // that cannot help.
    if (auto usable = unwind::check_target_process(pid); !usable) {
      std::fprintf(stderr, "goperf doctor: %s\n", usable.error().message().c_str());
      return 1;
    }
  }
  const auto results = run_doctor_checks(ctx);
  int failed = 0;
  for (const auto& r : results) failed += r.state == CheckState::kFail;
  if (json) {
    std::fputs(doctor_json(pid, results, failed).c_str(), stdout);
    return failed == 0 ? 0 : 1;
  }
  for (const auto& r : results) {
    std::printf("%-4s  %-6s %-20s %s\n", to_string(r.state), r.area.c_str(), r.name.c_str(), r.detail.c_str());
    if (!r.fix.empty()) std::printf("      %-6s %-20s -> %s\n", "", "", r.fix.c_str());
  }
  std::printf("\n%s\n", failed == 0 ? "everything goperf needs is available"
                                    : (std::to_string(failed) + " check(s) need a change (FIX lines above)").c_str());
  return failed == 0 ? 0 : 1;
}

}  // namespace goperf::profiler

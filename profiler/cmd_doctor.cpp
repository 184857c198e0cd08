// goperf doctor [-p PID] [--json]: runs every check of doctor_checks.h and prints one line per check, with the
// fix; exits 1 when any check says FIX.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "profiler/commands.h"
#include "profiler/doctor_checks.h"
#include "profiler/json_string.h"
#include "profiler/pid_option.h"
#include "unwind/process_status.h"

namespace po = boost::program_options;

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
  int pid = 0;
  std::string pid_text;
  bool json = false;
  po::options_description desc(
      "usage: goperf doctor [-p PID] [--json]\n\n"
      "Checks whether this host and user can sample (perf events), load BPF programs, attach to a process\n"
      "(ptrace) and keep cores of it, whether a panic of it will leave a core (GOTRACEBACK, core limits), and\n"
      "which program it runs; each failed check (FIX) says exactly what to change. Exits 1 when any check says FIX.\n\n"
      "options");
  desc.add_options()("help,h", "show this help")("pid,p", po::value<std::string>(&pid_text), "check attaching to and cores of this process")(
      "json", po::bool_switch(&json), "print the checks as JSON");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("pid")) pid = parse_pid(pid_text);
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

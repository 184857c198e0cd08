// goperf doctor [-p PID]: runs every check of doctor_checks.h and prints one line per check, with the fix.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "profiler/commands.h"
#include "profiler/doctor_checks.h"
#include "unwind/process_status.h"

namespace po = boost::program_options;

namespace goperf::profiler {

int run_doctor(const Args& args) {
  int pid = 0;
  po::options_description desc(
      "usage: goperf doctor [-p PID]\n\n"
      "Checks whether this host and user can sample (perf events), load BPF programs, attach to a process\n"
      "(ptrace) and keep cores of it, and which program the process runs; each failed check says exactly\n"
      "what to change.\n\noptions");
  desc.add_options()("help,h", "show this help")("pid,p", po::value<int>(&pid), "check attaching to and cores of this process");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("pid") && pid <= 0) throw po::validation_error(po::validation_error::invalid_option_value, "pid");
  auto ctx = current_doctor_context(pid);
  if (pid != 0) {
    // A kernel thread or a zombie has no limits or core filter worth changing: the checks would suggest fixes
    // that cannot help.
    if (auto usable = unwind::check_target_process(pid); !usable) {
      std::fprintf(stderr, "goperf doctor: %s\n", usable.error().message().c_str());
      return 1;
    }
  }
  int failed = 0;
  for (const auto& r : run_doctor_checks(ctx)) {
    std::printf("%-4s  %-6s %-20s %s\n", to_string(r.state), r.area.c_str(), r.name.c_str(), r.detail.c_str());
    if (!r.fix.empty()) std::printf("      %-6s %-20s -> %s\n", "", "", r.fix.c_str());
    if (r.state == CheckState::kFail) failed++;
  }
  std::printf("\n%s\n", failed == 0 ? "everything goperf needs is available"
                                    : (std::to_string(failed) + " check(s) need a change (FIX lines above)").c_str());
  return 0;
}

}  // namespace goperf::profiler

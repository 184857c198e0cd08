// `goperf doctor [-p PID] [--json]` options.
#include "profiler/options/doctor_options.h"
#include "profiler/options/parse_or_help.h"

#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include "profiler/options/pid_option.h"

namespace po = boost::program_options;

namespace goperf::profiler {

bool parse_doctor_options(const Args& args, DoctorOptions& options) {
  std::string pid_text;
  po::options_description desc(
      "usage: goperf doctor [-p PID] [--json]\n\n"
      "Checks whether this host and user can sample (perf events), load BPF programs, attach to a process\n"
      "(ptrace) and keep cores of it, whether a panic of it will leave a core (GOTRACEBACK, core limits), and\n"
      "which program it runs; each failed check (FIX) says exactly what to change. Exits 1 when any check says FIX.\n\n"
      "options");
  desc.add_options()("help,h", "show this help")("pid,p", po::value<std::string>(&pid_text), "check attaching to and cores of this process")(
      "json", po::bool_switch(&options.json), "print the checks as JSON");
  po::variables_map vm;
  if (!parse_or_help(args, desc, desc, nullptr, vm)) return false;
  if (vm.count("pid")) options.pid = parse_pid(pid_text);
  return true;
}

}  // namespace goperf::profiler

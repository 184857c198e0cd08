// `goperf info` options: a binary path or a live process.
#include "profiler/options/info_options.h"
#include "profiler/options/parse_or_help.h"

#include "profiler/options/pid_option.h"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace goperf::profiler {

bool parse_info_options(const Args& args, InfoOptions& o) {
  std::string pid;
  po::options_description desc(
      "usage: goperf info BINARY | -p PID  [--json]\n\n"
      "Shows what a Go binary (stripped or not) says about itself: the Go version, main module, dependencies\n"
      "and build settings (as `go version -m`), then the pclntab version and where it was found, PIE or not,\n"
      "stripped or not, cgo or not, the GNU and Go build ids and the number of functions.\n\n"
      "options");
  desc.add_options()
      ("help,h", "show this help")
      ("pid,p", po::value<std::string>(&pid),
       "a live process: the executable it runs, read through the process (also when deleted or replaced since)")
      ("json", po::bool_switch(&o.json), "print JSON (build info fields named as `go version -m -json`)");
  po::options_description hidden;
  hidden.add_options()("binary", po::value<std::string>(&o.binary), "");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("binary", 1);
  po::variables_map vm;
  if (!parse_or_help(args, all, desc, &positional, vm)) return false;
  if (vm.count("pid") && !o.binary.empty()) throw po::error("give either BINARY or -p PID, not both");
  if (vm.count("pid")) o.pid = parse_pid(pid);
  if (o.binary.empty() && o.pid == 0) throw po::error("give a BINARY or -p PID");
  return true;
}

}  // namespace goperf::profiler

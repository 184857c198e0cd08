// `goperf snapshot` options, also readable from an options file (--options-file, one `key = value` a line).
#include "profiler/options/snapshot_options.h"

#include "profiler/options/pid_option.h"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>

#include "profiler/dump/goroutine_filter.h"

namespace po = boost::program_options;

namespace goperf::profiler {

bool parse_snapshot_options(const Args& args, SnapshotOptions& o) {
  std::string options_file;
  std::string format, pid;
  std::string traceback = "system";
  po::options_description desc(
      "usage: goperf snapshot -p PID [--format text|json] [-o FILE] [--group] [--filter RE] [--diff OLD.json]\n\n"
      "Prints every goroutine of a live Go process (stripped or not) as the runtime's SIGQUIT dump would,\n"
      "without killing it: the process is stopped with ptrace only while its goroutine list and stacks are\n"
      "copied, then resumed before anything is symbolized. The pause time is reported on stderr.\n\n"
      "options");
  desc.add_options()
      ("help,h", "show this help")
      ("pid,p", po::value<std::string>(&pid), "the process to dump")
      ("format", po::value<std::string>(&format), "text (the runtime's format) or json")
      ("output,o", po::value<std::string>(&o.output), "write to FILE instead of stdout (.json selects json)")
      ("traceback", po::value<std::string>(&traceback),
       "system (default: what SIGQUIT prints: every goroutine and frame, fp/sp/pc) or all\n"
       "(GOTRACEBACK=all: runtime frames and system goroutines hidden)")
      ("quiet,q", po::bool_switch(&o.quiet), "do not report the pause time on stderr")
      ("group", po::bool_switch(&o.group),
       "print goroutines with the same state and frames (function, file:line; arguments ignored) once,\n"
       "largest groups first, under a header with their count, wait times and ids")
      ("filter", po::value<std::string>(&o.filter)->value_name("RE"), "only goroutines with a frame (function or file) matching RE")
      ("waits", po::bool_switch(&o.waits),
       "read what each waiting goroutine waits on (channels, for now) from the process after it resumed: in\n"
       "JSON as \"waiting_on\"; in text a summary after the dump or groups, most waiters first")
      ("diff", po::value<std::string>(&o.diff)->value_name("OLD.json"),
       "OLD.json (an earlier snapshot or core --format json of the same program): per group of goroutines,\n"
       "how many more or fewer there are now, new and vanished groups, and those waiting in both")
      ("options-file", po::value<std::string>(&options_file), "read more options from FILE (`pid = 123` lines)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("options-file")) {
    std::ifstream in(vm["options-file"].as<std::string>());
    if (!in) throw po::error("cannot read options file '" + vm["options-file"].as<std::string>() + "'");
    po::store(po::parse_config_file(in, desc), vm);
  }
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  if (!vm.count("pid")) throw po::error("give the process with -p PID");
  o.pid = parse_pid(pid);
  if (format.empty()) {
    const std::string& out = o.output;
    format = out.size() > 5 && out.compare(out.size() - 5, 5, ".json") == 0 ? "json" : "text";
  }
  if (format != "text" && format != "json")
    throw po::validation_error(po::validation_error::invalid_option_value, "format", format);
  o.format = format;
  if (traceback != "system" && traceback != "all")
    throw po::validation_error(po::validation_error::invalid_option_value, "traceback", traceback);
  o.system = traceback == "system";
  if (auto why = check_goroutine_filter(o.filter); !why.empty())
    throw po::error("--filter '" + o.filter + "' is not a regular expression: " + why);
  return true;
}

}  // namespace goperf::profiler

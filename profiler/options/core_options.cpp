// `goperf core` options: one or two positional arguments ([BINARY] CORE).
#include "profiler/options/core_options.h"
#include "profiler/options/parse_or_help.h"

#include <boost/program_options.hpp>

#include <iostream>
#include <vector>

#include "profiler/dump/goroutine_filter.h"

namespace po = boost::program_options;

namespace goperf::profiler {

bool parse_core_options(const Args& args, CoreOptions& o) {
  std::vector<std::string> files;
  po::options_description desc(
      "usage: goperf core [BINARY] CORE [options]\n\n"
      "Prints every goroutine of a core file of a Go program (stripped or not) as the runtime's SIGQUIT dump\n"
      "would, after a header with the signal and the crashing thread and goroutine. Without BINARY the\n"
      "executable is the one the core names; it must match the core's build id (--force to go on anyway).\n"
      "Cores compressed by systemd-coredump (.zst, .lz4, .xz) are read as they are.\n\noptions");
  desc.add_options()
      ("help,h", "show this help")
      ("format", po::value<std::string>(&o.format), "text (the runtime's format) or json")
      ("output,o", po::value<std::string>(&o.output), "write here instead of stdout (.json selects json)")
      ("sysroot", po::value<std::string>(&o.sysroot), "directory holding a copy of the crashed host's files")
      ("force", po::bool_switch(&o.force), "go on when the binary does not match the core")
      ("group", po::bool_switch(&o.group),
       "print goroutines with the same state and frames (function, file:line; arguments ignored) once,\n"
       "largest groups first, under a header with their count, wait times and ids")
      ("filter", po::value<std::string>(&o.filter)->value_name("RE"), "only goroutines with a frame (function or file) matching RE")
      ("waits", po::bool_switch(&o.waits),
       "read what each waiting goroutine waits on (channels, for now): in JSON as \"waiting_on\"; in text a\n"
       "summary after the dump or groups, most waiters first")
      ("diff", po::value<std::string>(&o.diff)->value_name("OLD.json"),
       "OLD.json (a snapshot or core --format json of the same program): per group of goroutines, how many\n"
       "more or fewer the core holds, new and vanished groups");
  po::options_description hidden;
  hidden.add_options()("files", po::value<std::vector<std::string>>(&files));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("files", -1);
  po::variables_map vm;
  if (!parse_or_help(args, all, desc, &pos, vm)) return false;
  if (files.empty()) throw po::error("give the core file (and optionally the binary before it)");
  if (files.size() > 2) throw po::error("too many arguments: give [BINARY] CORE");
  o.core = files.back();
  if (files.size() == 2) o.binary = files.front();
  if (!vm.count("format")) {
    o.format = o.output.size() > 5 && o.output.ends_with(".json") ? "json" : "text";
  }
  if (o.format != "text" && o.format != "json")
    throw po::validation_error(po::validation_error::invalid_option_value, "format", o.format);
  if (auto why = check_goroutine_filter(o.filter); !why.empty())
    throw po::error("--filter '" + o.filter + "' is not a regular expression: " + why);
  return true;
}

}  // namespace goperf::profiler

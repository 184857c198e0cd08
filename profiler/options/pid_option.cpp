// One reading of -p for every command (profiler/options/pid_option.h).
#include "profiler/options/pid_option.h"

#include <boost/program_options.hpp>

#include <algorithm>

namespace goperf::profiler {

int parse_pid(const std::string& text) {
  // Nine digits at most: larger than any pid_max (2^22), and no overflow of int.
  bool digits = !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  int pid = digits ? std::stoi(text) : 0;
  if (pid <= 0) throw boost::program_options::error("-p '" + text + "': not a process id (a positive number)");
  return pid;
}

}  // namespace goperf::profiler

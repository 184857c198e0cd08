// The goperf sub-commands. Each takes its arguments (after the sub-command name) and returns the exit
// code: 0 success, 1 failure (one line on stderr). Option errors are thrown as
// boost::program_options::error and turned into one line and exit code 1 by main.cpp, as any bad input.
#pragma once

#include <string>
#include <vector>

namespace goperf::profiler {

using Args = std::vector<std::string>;

int run_record(const Args& args);
int run_report(const Args& args);
int run_snapshot(const Args& args);
int run_core(const Args& args);
int run_addr2line(const Args& args);
int run_info(const Args& args);
int run_doctor(const Args& args);

}  // namespace goperf::profiler

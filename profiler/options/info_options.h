// InfoOptions: `goperf info` command line. Parsing errors are thrown as boost::program_options::error.
#pragma once

#include <string>

#include "profiler/commands.h"

namespace goperf::profiler {

struct InfoOptions {
  std::string binary;  // BINARY ("" with -p)
  int pid = 0;         // -p PID, 0 = none: the executable the process runs (unwind::AddressSpace::executable)
  bool json = false;   // --json
};

// Fills `options`; returns false after printing --help.
bool parse_info_options(const Args& args, InfoOptions& options);

}  // namespace goperf::profiler

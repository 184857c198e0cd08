// DoctorOptions: `goperf doctor` command line. Parsing errors are thrown as boost::program_options::error.
#pragma once

#include "profiler/commands.h"

namespace goperf::profiler {

struct DoctorOptions {
  int pid = 0;        // -p PID, 0 = none: check this host and user only
  bool json = false;  // --json
};

// Fills `options`; returns false after printing --help.
bool parse_doctor_options(const Args& args, DoctorOptions& options);

}  // namespace goperf::profiler

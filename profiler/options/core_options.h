// CoreOptions: `goperf core [BINARY] CORE` command line (Boost.Program_options). Parsing errors are thrown as
// boost::program_options::error (main.cpp turns them into exit code 2).
#pragma once

#include <string>

#include "profiler/commands.h"

namespace goperf::profiler {

struct CoreOptions {
  std::string binary;           // "" = the executable named by the core's NT_FILE
  std::string core;
  std::string format = "text";  // text | json (default from -o's extension, else text)
  std::string output;           // -o, "" = stdout
  std::string sysroot;          // prefix for the paths the core names
  bool force = false;           // go on when the binary's build id does not match the core
  bool group = false;           // --group: goroutines with the same state and frames printed once
  std::string filter;           // --filter RE: only goroutines with a frame matching RE
  bool waits = false;           // --waits: what waiting goroutines wait on (JSON) and a summary (text)
  std::string diff;             // --diff OLD.json: what changed since OLD (a snapshot or core --format json)
};

// Fills `options`; returns false after printing --help.
bool parse_core_options(const Args& args, CoreOptions& options);

}  // namespace goperf::profiler

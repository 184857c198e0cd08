// SnapshotOptions: `goperf snapshot` command line. Parsing errors are thrown as boost::program_options::error.
#pragma once

#include <string>

#include "profiler/commands.h"

namespace goperf::profiler {

struct SnapshotOptions {
  int pid = 0;                 // -p PID
  std::string format = "text"; // --format text|json (default: from -o's extension, else text)
  std::string output;          // -o FILE, "" = stdout
  bool quiet = false;          // --quiet: no pause report on stderr
  bool system = true;          // --traceback system (SIGQUIT's level, default) or all
  bool group = false;          // --group: goroutines with the same state and frames printed once
  std::string filter;          // --filter RE: only goroutines with a frame matching RE
  bool waits = false;          // --waits: what waiting goroutines wait on (JSON) and a summary (text)
  std::string diff;            // --diff OLD.json: what changed since OLD (an earlier --format json)
};

// Fills `options`; returns false after printing --help.
bool parse_snapshot_options(const Args& args, SnapshotOptions& options);

}  // namespace goperf::profiler

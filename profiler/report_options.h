// ReportOptions: `goperf report` command line (Boost.Program_options). Usage errors are thrown as
// boost::program_options::error (exit code 2); a bad --format value is left to the command (exit 1).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "profiler/commands.h"

namespace goperf::profiler {

struct ReportOptions {
  std::string input;                 // -i, "" = the newest *.pb.gz in the current directory
  std::string output;                // -o, "" = <input stem>.svg (svg, pprof) or stdout (folded, text, top)
  std::string format;                // --format, "" = from -o's extension, else svg
  std::string title;                 // --title, "" = "Flame Graph: <input>"
  int width = 1200;                  // --width
  double min_width = 0.1;            // --minwidth (pixels)
  bool reverse = false;              // --reverse
  bool inverted = false;             // --inverted (icicle)
  std::string diff_base;             // --diff BASE
  std::string focus, ignore;         // --focus RE, --ignore RE
  std::vector<std::pair<std::string, std::string>> tagfocus;  // --tagfocus KEY=RE (repeatable)
  std::vector<std::pair<std::string, std::string>> tagignore;  // --tagignore KEY=RE (repeatable)
  bool state_roots = true;           // goroutine-state profiles: "[state]" frames at the root (--no-state-roots)
  bool lines = false;                // --lines
  int sample_index = -1;             // --sample-index N (-1: the profile's default)
  bool help = false;
};

// Fills `options`; returns false after printing --help.
bool parse_report_options(const Args& args, ReportOptions& options);

}  // namespace goperf::profiler

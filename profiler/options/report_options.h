// ReportOptions: `goperf report` command line (Boost.Program_options). Usage errors are thrown as
// boost::program_options::error; main.cpp prints them in one line, exit status 1, as every bad input.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "profiler/commands.h"

namespace goperf::profiler {

struct ReportOptions {
  std::vector<std::string> inputs;   // -i (repeatable, globs expanded), none = the newest *.pb.gz here;
                                     // several are merged as `go tool pprof a b` merges them
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
  size_t node_count = 10;            // -n/--nodecount: rows of --format top
  bool cum = false;                  // --cum: top and text sorted by cumulative value
  bool quiet = false;                // -q: errors only
  bool help = false;
};

// Fills `options`; returns false after printing --help.
bool parse_report_options(const Args& args, ReportOptions& options);

}  // namespace goperf::profiler

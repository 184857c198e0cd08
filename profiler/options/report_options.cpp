// `goperf report` options.
#include "profiler/options/report_options.h"
#include "profiler/options/parse_or_help.h"

#include <boost/program_options.hpp>

#include <glob.h>

#include <iostream>

namespace po = boost::program_options;

namespace goperf::profiler {
namespace {

// -i 'server-*.pb.gz' quoted past the shell: goperf expands it (sorted, as the shell would). A name that
// exists is taken as it is, whatever characters it holds; a pattern matching nothing is left for the
// reader to say "no such file" about.
std::vector<std::string> expand_globs(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& pattern : in) {
    glob_t g{};
    const bool wild = pattern.find_first_of("*?[") != std::string::npos;
    if (wild && glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    } else {
      out.push_back(pattern);
    }
    globfree(&g);
  }
  return out;
}

}  // namespace

bool parse_report_options(const Args& args, ReportOptions& o) {
  std::vector<std::string> tagfocus, tagignore, inputs;
  bool no_state_roots = false;
  po::options_description desc(
      "usage: goperf report [-i FILE...] [-o FILE] [--format svg|folded|pprof|text|top] [options]\n\n"
      "Renders a profile (pprof, gzip or not, from goperf, runtime/pprof or anyone; or folded stacks) as an\n"
      "interactive SVG flame graph, folded stacks, a pprof profile, or a table of the top functions.\n"
      "The format follows -o's extension (.svg, .folded/.collapsed/.stacks, .pb.gz/.pprof/.pb, .txt) unless\n"
      "--format is given. Without -o: svg and pprof go to <input stem>.svg/.report.pb.gz, the rest to stdout.\n"
      "Without -i: the newest *.pb.gz in the current directory. Several inputs (-i a -i b, a b, or a glob)\n"
      "are merged as go tool pprof merges them (the same sample types; samples summed per stack).\n\n"
      "options");
  desc.add_options()
      ("help,h", "show this help")
      ("input,i", po::value<std::vector<std::string>>(&inputs), "profiles to read ('-' for stdin), merged; globs "
                                                              "are expanded")
      ("output,o", po::value<std::string>(&o.output), "file to write ('-' for stdout)")
      ("format,f", po::value<std::string>(&o.format), "svg, folded, pprof, text (every function) or top (-n rows)")
      ("nodecount,n", po::value<size_t>(&o.node_count)->default_value(10), "top: how many rows")
      ("cum", po::bool_switch(&o.cum), "top and text: sorted by cumulative value (go tool pprof -cum)")
      ("quiet,q", po::bool_switch(&o.quiet), "print errors only")
      ("title", po::value<std::string>(&o.title), "SVG title")
      ("width", po::value<int>(&o.width)->default_value(1200), "SVG width in pixels")
      ("minwidth", po::value<double>(&o.min_width)->default_value(0.1),
       "SVG: merge frames narrower than this many pixels")
      ("reverse", po::bool_switch(&o.reverse), "stacks leaf first (callees at the root)")
      ("inverted", po::bool_switch(&o.inverted), "SVG: icicle graph, the root at the top")
      ("diff", po::value<std::string>(&o.diff_base), "SVG: differential flame graph against this base profile")
      ("focus", po::value<std::string>(&o.focus), "keep samples with a function matching this regex")
      ("ignore", po::value<std::string>(&o.ignore), "drop samples with a function matching this regex")
      ("tagfocus", po::value<std::vector<std::string>>(&tagfocus),
       "keep samples whose label KEY matches: KEY=RE, or KEY=N / KEY=LO:HI for numeric labels (exact)")
      ("tagignore", po::value<std::vector<std::string>>(&tagignore), "drop samples whose label KEY matches: KEY=RE")
      ("no-state-roots", po::bool_switch(&no_state_roots),
       "goroutine-state profiles (record -e goroutines): no [state] frame at the root of each stack")
      ("lines", po::bool_switch(&o.lines), "one frame per function:line instead of per function")
      ("sample-index", po::value<int>(&o.sample_index)->default_value(-1),
       "which sample value (0-based; default: the profile's default, e.g. cpu for CPU profiles)");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!parse_or_help(args, desc, desc, &pos, vm)) {
    o.help = true;
    return false;
  }
  auto key_re = [](const std::vector<std::string>& in, const char* option) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& t : in) {
      const size_t eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw po::validation_error(po::validation_error::invalid_option_value, option, t);
      }
      out.emplace_back(t.substr(0, eq), t.substr(eq + 1));
    }
    return out;
  };
  o.inputs = expand_globs(inputs);
  o.tagfocus = key_re(tagfocus, "tagfocus");
  o.tagignore = key_re(tagignore, "tagignore");
  o.state_roots = !no_state_roots;
  if (o.width < 200 || o.width > 100000) throw po::error("--width must be between 200 and 100000");
  if (!(o.min_width >= 0)) throw po::error("--minwidth must be >= 0");
  if (o.node_count == 0) throw po::error("-n must be at least 1");
  return true;
}

}  // namespace goperf::profiler

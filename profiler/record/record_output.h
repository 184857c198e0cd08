// RecordOutput: which files `goperf record` writes for -o FILE. The extension chooses the format, as
// for report: .pb.gz/.pprof/.pb (pprof), .svg (flame graph), .folded, .txt (the top table). A non-pprof
// output keeps the pprof beside it (x.svg -> x.pb.gz): the samples themselves, for report and pprof.
#pragma once

#include <string>

#include "flamegraph/output_format.h"
#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::profiler {

struct RecordOutput {
  std::string path;        // what -o named (or the default <prog>-<pid>-<time>.pb.gz)
  flamegraph::OutputFormat format = flamegraph::OutputFormat::kPprof;
  std::string pprof_path;  // == path for a pprof output, else the .pb.gz beside it

  bool pprof_only() const { return path == pprof_path; }
};

// kInvalidArgument, in one line, for a name whose extension names no format.
Result<RecordOutput> plan_record_output(const std::string& path);

// Writes the pprof, then the chosen rendering of `profile`; `what` is what the SVG's subtitle says.
// Returns the line that tells the user which files were written.
Result<std::string> write_record_output(const flamegraph::Profile& profile, const RecordOutput& out,
                                        const std::string& what);

}  // namespace goperf::profiler

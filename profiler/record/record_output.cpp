// RecordOutput: the format from the extension (flamegraph/output_format.h, the one mapping report uses
// too), the pprof beside a rendered output, and one writer call per file.
#include "profiler/record/record_output.h"

#include "flamegraph/file_io.h"
#include "flamegraph/pprof_writer.h"
#include "flamegraph/state_roots.h"

namespace goperf::profiler {
namespace fg = goperf::flamegraph;

namespace {

// "x.svg" -> "x.pb.gz", "x.folded" -> "x.pb.gz"; the extension is the text after the last '.' of the
// file name (never of a directory).
std::string pprof_beside(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_ext ? path.substr(0, dot) : path) + ".pb.gz";
}

}  // namespace

Result<RecordOutput> plan_record_output(const std::string& path) {
  auto format = fg::format_for_path(path);
  if (!format) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot tell the format from the name '" + path + "' (use .pb.gz, .svg, .folded or .txt)");
  }
  RecordOutput out;
  out.path = path;
  out.format = *format;
  out.pprof_path = *format == fg::OutputFormat::kPprof ? path : pprof_beside(path);
  return out;
}

Result<std::string> write_record_output(const fg::Profile& profile, const RecordOutput& out, const std::string& what) {
  if (auto st = fg::write_pprof_file(profile, out.pprof_path); !st) return std::move(st).error();
  if (out.pprof_only()) return "wrote " + out.path;
  fg::Profile shown = profile;
  fg::add_state_roots(shown);  // goroutine-state profiles: as report draws them
  fg::RenderOptions render;
  render.svg.subtitle = what;
  std::string bytes;
  if (auto st = fg::make_writer(out.format, render)->write(shown, bytes); !st) return std::move(st).error();
  if (auto st = fg::write_whole_file(out.path, bytes); !st) return std::move(st).error();
  return "wrote " + out.path + " (" + fg::output_format_name(out.format) + ") and the profile beside it, " +
         out.pprof_path + " (pprof)";
}

}  // namespace goperf::profiler

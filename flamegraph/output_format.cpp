// OutputFormat: names and extensions as documented in the header.
#include "flamegraph/output_format.h"

#include "flamegraph/folded_writer.h"
#include "flamegraph/pprof_writer.h"
#include "flamegraph/text_writer.h"

namespace goperf::flamegraph {
namespace {

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

Result<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "svg") return OutputFormat::kSvg;
  if (name == "folded" || name == "collapsed") return OutputFormat::kFolded;
  if (name == "pprof" || name == "proto") return OutputFormat::kPprof;
  if (name == "text" || name == "txt") return OutputFormat::kText;
  if (name == "top") return OutputFormat::kTop;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown format '" + std::string(name) + "' (expected svg, folded, pprof, text or top)");
}

Result<OutputFormat> format_for_path(std::string_view path) {
  if (ends_with(path, ".svg")) return OutputFormat::kSvg;
  if (ends_with(path, ".folded") || ends_with(path, ".collapsed") || ends_with(path, ".stacks")) {
    return OutputFormat::kFolded;
  }
  if (ends_with(path, ".pb.gz") || ends_with(path, ".pprof") || ends_with(path, ".pb")) return OutputFormat::kPprof;
  if (ends_with(path, ".txt")) return OutputFormat::kText;
  return make_error(ErrorCode::kNotFound, "no format for the extension of " + std::string(path));
}

const char* output_format_name(OutputFormat f) {
  switch (f) {
    case OutputFormat::kSvg: return "svg";
    case OutputFormat::kFolded: return "folded";
    case OutputFormat::kPprof: return "pprof";
    case OutputFormat::kText: return "text";
    case OutputFormat::kTop: return "top";
  }
  return "svg";
}

const char* output_extension(OutputFormat f) {
  switch (f) {
    case OutputFormat::kSvg: return ".svg";
    case OutputFormat::kFolded: return ".folded";
    case OutputFormat::kPprof: return ".pb.gz";
    case OutputFormat::kText: return ".txt";
    case OutputFormat::kTop: return ".txt";
  }
  return ".svg";
}

std::unique_ptr<ProfileWriter> make_writer(OutputFormat format, const RenderOptions& o) {
  switch (format) {
    case OutputFormat::kSvg: return std::make_unique<SvgWriter>(o.svg);
    case OutputFormat::kFolded: return std::make_unique<FoldedWriter>(FoldedWriter::Options{o.svg.tree, true});
    case OutputFormat::kPprof: return std::make_unique<PprofWriter>();
    case OutputFormat::kText: return std::make_unique<TextWriter>(TextWriter::Options{o.svg.tree, 0, o.cum, true});
    case OutputFormat::kTop:
      return std::make_unique<TextWriter>(TextWriter::Options{o.svg.tree, o.top_rows, o.cum, true});
  }
  return nullptr;
}

}  // namespace goperf::flamegraph

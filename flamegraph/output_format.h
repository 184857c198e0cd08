// OutputFormat: the one place that maps `--format` or an output file's extension to a ProfileWriter.
//   svg    .svg                        interactive flame graph (default)
//   folded .folded .collapsed .stacks  folded stacks
//   pprof  .pb.gz .pprof .pb           gzip-compressed profile.proto
//   text   .txt                        every function, flat and cumulative (go tool pprof -top)
//   top    (no extension)              the first rows of text (RenderOptions::top_rows)
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "flamegraph/profile_writer.h"
#include "flamegraph/svg_writer.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

enum class OutputFormat { kSvg, kFolded, kPprof, kText, kTop };

Result<OutputFormat> parse_output_format(std::string_view name);
// kNotFound when the extension names no format.
Result<OutputFormat> format_for_path(std::string_view path);
const char* output_format_name(OutputFormat format);
// The extension `report` gives a default output file of this format.
const char* output_extension(OutputFormat format);

struct RenderOptions {
  SvgOptions svg;          // svg.tree is used for every format (value, lines, reverse)
  size_t top_rows = 10;    // for kTop
  bool cum = false;        // kText, kTop: sorted by cumulative value
};

std::unique_ptr<ProfileWriter> make_writer(OutputFormat format, const RenderOptions& options);

}  // namespace goperf::flamegraph

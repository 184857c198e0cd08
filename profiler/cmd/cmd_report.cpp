// goperf report: reads a profile (pprof or folded), filters it, and writes it as SVG, folded, pprof or text.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "flamegraph/call_tree.h"
#include "flamegraph/file_io.h"
#include "flamegraph/output_format.h"
#include "flamegraph/profile_filter.h"
#include "flamegraph/profile_merge.h"
#include "flamegraph/profile_reader.h"
#include "flamegraph/state_roots.h"
#include "flamegraph/text_writer.h"
#include "profiler/commands.h"
#include "profiler/options/report_options.h"

namespace goperf::profiler {
namespace {

namespace fs = std::filesystem;
namespace fg = goperf::flamegraph;

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf report: %s\n", message.c_str());
  return 1;
}

// The newest *.pb.gz in the current directory: what `goperf record` wrote last.
std::string newest_profile() {
  std::error_code ec;
  std::string best;
  fs::file_time_type best_time{};
  for (const auto& e : fs::directory_iterator(".", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".pb.gz") != 0) continue;
    if (!e.is_regular_file(ec)) continue;
    const auto t = e.last_write_time(ec);
    if (ec) continue;
    if (best.empty() || t > best_time) {
      best = name;
      best_time = t;
    }
  }
  return best;
}

std::string stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".pb.gz", ".pprof", ".pb", ".gz", ".folded", ".collapsed", ".stacks", ".txt", ".prof"}) {
    const size_t n = std::char_traits<char>::length(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) {
      name.resize(name.size() - n);
      break;
    }
  }
  return name.empty() ? "profile" : name;
}

// Reads, merges (several inputs) and filters; the result is what every format renders.
Result<fg::Profile> load(const std::vector<std::string>& paths, const ReportOptions& o) {
  std::vector<fg::Profile> profiles;
  for (const std::string& path : paths) {
    auto p = fg::read_profile(path);
    if (!p) return std::move(p).error();
    profiles.push_back(std::move(p).value());
  }
  auto merged = fg::merge_profiles(std::move(profiles), paths);
  if (!merged) return std::move(merged).error();
  fg::FilterOptions filter{o.focus, o.ignore, o.tagfocus, o.tagignore};
  auto filtered = fg::filter_profile(std::move(merged).value(), filter);
  if (!filtered) return std::move(filtered).error();
  if (o.state_roots) fg::add_state_roots(*filtered);
  if (o.sample_index >= 0 && static_cast<size_t>(o.sample_index) >= filtered->sample_types.size()) {
    const std::string what = paths.size() == 1 ? paths[0] : "the merged profile";
    return make_error(ErrorCode::kInvalidArgument, what + " has " + std::to_string(filtered->sample_types.size()) +
                                                       " sample types; --sample-index " +
                                                       std::to_string(o.sample_index) + " is out of range");
  }
  return filtered;
}

std::string describe(const fg::Profile& p, int sample_index, const std::string& input) {
  const int vi = fg::resolve_value_index(p, sample_index);
  if (static_cast<size_t>(vi) >= p.sample_types.size()) return input;
  int64_t total = 0;
  for (const auto& s : p.samples) total += static_cast<size_t>(vi) < s.values.size() ? s.values[vi] : 0;
  const auto& vt = p.sample_types[vi];
  return vt.type + ": " + fg::format_value(total, vt.unit) + (vt.unit == "count" ? " samples" : "") + " in " +
         std::to_string(p.samples.size()) + " stacks, " + input;
}

// "cpu.pb.gz", or "a.pb.gz and 2 more" for merged inputs.
std::string inputs_name(const std::vector<std::string>& inputs) {
  std::string name = fs::path(inputs[0]).filename().string();
  if (inputs.size() > 1) name += " and " + std::to_string(inputs.size() - 1) + " more";
  return name;
}

// --format, else -o's extension, else svg.
Result<fg::OutputFormat> choose_format(const ReportOptions& o) {
  if (!o.format.empty()) return fg::parse_output_format(o.format);
  if (o.output.empty() || o.output == "-") return fg::OutputFormat::kSvg;
  auto f = fg::format_for_path(o.output);
  if (!f) {
    return make_error(ErrorCode::kInvalidArgument, "cannot tell the format from the name '" + o.output +
                                                       "' (use .svg, .folded, .pb.gz or .txt, or give --format)");
  }
  return f;
}

// Without -o: svg and pprof go to a file named after the (first) input, the text formats to stdout.
std::string default_output(const ReportOptions& o, fg::OutputFormat format) {
  const bool to_file = format == fg::OutputFormat::kSvg || format == fg::OutputFormat::kPprof;
  if (!to_file || o.inputs[0] == "-") return "-";
  return stem(o.inputs[0]) + (format == fg::OutputFormat::kPprof ? ".report.pb.gz" : ".svg");
}

// Folded text rendered as an SVG with nothing to filter or merge: drawn straight from the text.
std::optional<fg::MappedFile> fast_folded_input(const ReportOptions& o, fg::OutputFormat format) {
  if (format != fg::OutputFormat::kSvg || o.lines || !o.focus.empty() || !o.ignore.empty() || !o.tagfocus.empty() ||
      !o.tagignore.empty() || o.inputs.size() != 1 || o.inputs[0] == "-") {
    return std::nullopt;
  }
  auto file = fg::MappedFile::open(o.inputs[0]);
  if (!file || !fg::is_folded_text(file->data())) return std::nullopt;
  return std::move(file).value();
}

// The SVG's title and subtitle, widths, tree options; the top table's rows and order.
fg::RenderOptions render_options(const ReportOptions& o, const fg::Profile* profile, const fg::Profile* base) {
  fg::RenderOptions render;
  render.svg.title = o.title.empty() ? (o.diff_base.empty() ? "Flame Graph" : "Differential Flame Graph") : o.title;
  render.svg.subtitle = profile ? describe(*profile, o.sample_index, inputs_name(o.inputs)) : inputs_name(o.inputs);
  if (!o.diff_base.empty()) render.svg.subtitle += "  vs base " + fs::path(o.diff_base).filename().string();
  if (o.reverse) render.svg.subtitle += " (reversed)";
  render.svg.width = o.width;
  render.svg.min_width = o.min_width;
  render.svg.inverted = o.inverted;
  render.svg.tree = fg::TreeOptions{o.sample_index, o.lines, o.reverse};
  render.svg.base = base;
  render.top_rows = o.node_count;
  render.cum = o.cum;
  return render;
}

}  // namespace

int run_report(const Args& args) {
  ReportOptions o;
  if (!parse_report_options(args, o)) return 0;
  auto format = choose_format(o);
  if (!format) return fail(format.error().message());
  if (!o.diff_base.empty() && *format != fg::OutputFormat::kSvg) return fail("--diff draws an SVG: use --format svg");
  if (o.inputs.empty()) {
    o.inputs = {newest_profile()};
    if (o.inputs[0].empty()) return fail("no profile given (-i FILE) and no *.pb.gz in the current directory");
  }
  std::optional<fg::MappedFile> fast_folded = fast_folded_input(o, *format);
  Result<fg::Profile> profile = fg::Profile{};
  if (!fast_folded) profile = load(o.inputs, o);
  if (!profile) return fail(profile.error().message());
  Result<fg::Profile> base = fg::Profile{};
  if (!o.diff_base.empty()) {
    base = load({o.diff_base}, o);
    if (!base) return fail(base.error().message());
  }
  if (o.output.empty()) o.output = default_output(o, *format);
  if (o.output == "-" && *format == fg::OutputFormat::kPprof && isatty(1)) {
    return fail("not writing a binary profile to a terminal: give -o FILE");
  }
  const fg::RenderOptions render =
      render_options(o, fast_folded ? nullptr : &*profile, o.diff_base.empty() ? nullptr : &base.value());
  std::string bytes;
  if (fast_folded) {
    // Folded -> SVG without an intermediate Profile: the common FlameGraph-toolchain case, kept fast.
    auto tree = fg::CallTree::from_folded(fast_folded->data(), render.svg.tree);
    if (!tree) return fail(o.inputs[0] + ": " + tree.error().message());
    if (render.svg.base) tree->add_base(*render.svg.base);
    if (auto st = fg::SvgWriter(render.svg).write_tree(*tree, bytes); !st) return fail(st.error().message());
  } else if (auto st = fg::make_writer(*format, render)->write(*profile, bytes); !st) {
    return fail(st.error().message());
  }
  if (auto st = fg::write_whole_file(o.output, bytes); !st) return fail(st.error().message());
  if (o.output != "-" && !o.quiet) {
    std::fprintf(stderr, "goperf report: wrote %s (%s, %zu bytes)\n", o.output.c_str(),
                 fg::output_format_name(*format), bytes.size());
  }
  return 0;
}

}  // namespace goperf::profiler

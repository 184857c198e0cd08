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
#include "flamegraph/profile_reader.h"
#include "flamegraph/state_roots.h"
#include "flamegraph/text_writer.h"
#include "profiler/commands.h"
#include "profiler/report_options.h"

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

Result<fg::Profile> load(const std::string& path, const ReportOptions& o) {
  auto p = fg::read_profile(path);
  if (!p) return std::move(p).error();
  fg::FilterOptions filter{o.focus, o.ignore, o.tagfocus, o.tagignore};
  auto filtered = fg::filter_profile(std::move(p).value(), filter);
  if (!filtered) return std::move(filtered).error();
  if (o.state_roots) fg::add_state_roots(*filtered);
  if (o.sample_index >= 0 && static_cast<size_t>(o.sample_index) >= filtered->sample_types.size()) {
    return make_error(ErrorCode::kInvalidArgument, path + " has " + std::to_string(filtered->sample_types.size()) +
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
         std::to_string(p.samples.size()) + " stacks, " + fs::path(input).filename().string();
}

}  // namespace

int run_report(const Args& args) {
  ReportOptions o;
  if (!parse_report_options(args, o)) return 0;

  // The format: --format, else -o's extension, else svg.
  fg::OutputFormat format = fg::OutputFormat::kSvg;
  if (!o.format.empty()) {
    auto f = fg::parse_output_format(o.format);
    if (!f) return fail(f.error().message());
    format = *f;
  } else if (!o.output.empty() && o.output != "-") {
    auto f = fg::format_for_path(o.output);
    if (!f) {
      return fail("cannot tell the format from the name '" + o.output +
                  "' (use .svg, .folded, .pb.gz or .txt, or give --format)");
    }
    format = *f;
  }
  if (!o.diff_base.empty() && format != fg::OutputFormat::kSvg) return fail("--diff draws an SVG: use --format svg");

  if (o.input.empty()) {
    o.input = newest_profile();
    if (o.input.empty()) return fail("no profile given (-i FILE) and no *.pb.gz in the current directory");
  }
  // Folded text rendered as an SVG with nothing to filter takes the fast path below.
  std::optional<fg::MappedFile> fast_folded;
  if (format == fg::OutputFormat::kSvg && !o.lines && o.focus.empty() && o.ignore.empty() && o.tagfocus.empty() &&
      o.tagignore.empty() &&
      o.input != "-") {
    if (auto file = fg::MappedFile::open(o.input); file && fg::is_folded_text(file->data())) {
      fast_folded.emplace(std::move(file).value());
    }
  }
  Result<fg::Profile> profile = fg::Profile{};
  if (!fast_folded) profile = load(o.input, o);
  if (!profile) return fail(profile.error().message());
  Result<fg::Profile> base = fg::Profile{};
  if (!o.diff_base.empty()) {
    base = load(o.diff_base, o);
    if (!base) return fail(base.error().message());
  }

  if (o.output.empty()) {
    const bool to_file = format == fg::OutputFormat::kSvg || format == fg::OutputFormat::kPprof;
    if (!to_file || o.input == "-") {
      o.output = "-";
    } else {
      o.output = stem(o.input) + (format == fg::OutputFormat::kPprof ? ".report.pb.gz" : ".svg");
    }
  }
  if (o.output == "-" && format == fg::OutputFormat::kPprof && isatty(1)) {
    return fail("not writing a binary profile to a terminal: give -o FILE");
  }

  fg::RenderOptions render;
  render.svg.title = o.title.empty() ? (o.diff_base.empty() ? "Flame Graph" : "Differential Flame Graph") : o.title;
  render.svg.subtitle = fast_folded ? fs::path(o.input).filename().string() : describe(*profile, o.sample_index, o.input);
  if (!o.diff_base.empty()) render.svg.subtitle += "  vs base " + fs::path(o.diff_base).filename().string();
  if (o.reverse) render.svg.subtitle += " (reversed)";
  render.svg.width = o.width;
  render.svg.min_width = o.min_width;
  render.svg.inverted = o.inverted;
  render.svg.tree = fg::TreeOptions{o.sample_index, o.lines, o.reverse};
  render.svg.base = o.diff_base.empty() ? nullptr : &base.value();

  std::string bytes;
  if (fast_folded) {
    // Folded -> SVG without an intermediate Profile: the common FlameGraph-toolchain case, kept fast.
    auto tree = fg::CallTree::from_folded(fast_folded->data(), render.svg.tree);
    if (!tree) return fail(o.input + ": " + tree.error().message());
    if (render.svg.base) tree->add_base(*render.svg.base);
    if (auto st = fg::SvgWriter(render.svg).write_tree(*tree, bytes); !st) return fail(st.error().message());
  } else if (auto st = fg::make_writer(format, render)->write(*profile, bytes); !st) {
    return fail(st.error().message());
  }
  if (auto st = fg::write_whole_file(o.output, bytes); !st) return fail(st.error().message());
  if (o.output != "-") {
    std::fprintf(stderr, "goperf report: wrote %s (%s, %zu bytes)\n", o.output.c_str(),
                 fg::output_format_name(format), bytes.size());
  }
  return 0;
}

}  // namespace goperf::profiler

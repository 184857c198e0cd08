// SvgWriter: lays out the CallTree (x in sample units, pre-order so a subtree is a contiguous range),
// writes one <rect> per frame for viewers without scripts, and the per-frame data the script needs.
#include "flamegraph/svg_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "flamegraph/svg_palette.h"

namespace goperf::flamegraph {
namespace {

constexpr int kFontSize = 12;
constexpr double kCharWidth = kFontSize * 0.59;  // flamegraph.pl's estimate for its default font
constexpr int kPadTop = kFontSize * 4 + 8;       // title, subtitle, legend
constexpr int kPadBottom = kFontSize * 2 + 10;   // details line
constexpr uint8_t kInlinedFlag = 8;
constexpr uint8_t kMergedFlag = 16;

struct Placed {
  uint32_t name;    // index into the names table
  uint32_t node;    // tree node, or kNone for a merged run
  uint32_t depth;
  int64_t x;        // sample units from the left edge
  int64_t value;
  uint8_t flags;    // FrameKind | kInlinedFlag | kMergedFlag
};

void put_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_px(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, std::round(v * 100) / 100, std::chars_format::fixed, 2);
  // Trim "12.50" -> "12.5", "12.00" -> "12".
  char* end = r.ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  out.append(buf, end);
}

void put_xml(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        out.push_back(c);
    }
  }
}

// A JavaScript string literal that is also safe inside CDATA ("]]>" can never appear).
void put_js_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '<' || c == '>' || c == '&' || u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string merged_name(size_t count, double min_width) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%zu frames narrower than %gpx merged]", count, min_width);
  return buf;
}

}  // namespace

Status SvgWriter::write(const Profile& profile, std::string& out) const {
  CallTree tree = CallTree::build(profile, options_.tree);
  if (options_.base) tree.add_base(*options_.base);
  return write_tree(tree, out);
}

Status SvgWriter::write_tree(CallTree& tree, std::string& out) const {
  if (options_.width < 200 || options_.width > 100000) {
    return make_error(ErrorCode::kInvalidArgument, "width must be between 200 and 100000 pixels");
  }
  if (!(options_.min_width >= 0)) return make_error(ErrorCode::kInvalidArgument, "min width must be >= 0");
  tree.sort_children();
  const auto& nodes = tree.nodes();
  const auto& frames = tree.frames();
  const int64_t total = std::max<int64_t>(tree.total(), 1);
  const double avail = options_.width - 2.0 * kSvgPadX;
  const double scale = avail / static_cast<double>(total);
  const double min_samples = options_.min_width / scale;
  const bool diff = tree.has_base();
  const int64_t base_total = diff ? std::max<int64_t>(tree.base_total(0), 1) : 1;

  // Layout: pre-order, children left to right; runs of narrow siblings become one merged frame.
  std::vector<Placed> placed;
  std::vector<std::string> names;
  std::unordered_map<uint32_t, uint32_t> name_of_frame;
  std::unordered_map<std::string, uint32_t> merged_names;
  auto frame_name_index = [&](uint32_t frame) {
    auto [it, inserted] = name_of_frame.emplace(frame, static_cast<uint32_t>(names.size()));
    if (inserted) names.push_back(frames[frame].name);
    return it->second;
  };
  struct Task {
    uint32_t node;
    int64_t x;
    int64_t value;     // merged runs only
    uint32_t merged;   // number of frames merged (0: a real node)
    uint32_t depth;
  };
  std::vector<Task> stack{{0, 0, 0, 0, 0}};
  std::vector<Task> kids;
  uint32_t max_depth = 0;
  while (!stack.empty()) {
    Task t = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, t.depth);
    if (t.merged) {
      std::string name = merged_name(t.merged, options_.min_width);
      auto [it, inserted] = merged_names.emplace(name, static_cast<uint32_t>(names.size()));
      if (inserted) names.push_back(name);
      placed.push_back({it->second, TreeNode::kNone, t.depth, t.x, t.value,
                        static_cast<uint8_t>(static_cast<uint8_t>(FrameKind::kUnknown) | kMergedFlag)});
      continue;
    }
    const TreeNode& n = nodes[t.node];
    const TreeFrame& f = frames[n.frame];
    placed.push_back({frame_name_index(n.frame), t.node, t.depth, t.x, n.total,
                      static_cast<uint8_t>(static_cast<uint8_t>(f.kind) | (f.inlined ? kInlinedFlag : 0))});
    kids.clear();
    int64_t x = t.x;
    int64_t run_value = 0;
    uint32_t run_count = 0;
    int64_t run_x = 0;
    auto flush_run = [&] {
      if (run_count == 0) return;
      if (static_cast<double>(run_value) >= min_samples && run_value > 0) {
        kids.push_back({0, run_x, run_value, run_count, t.depth + 1});
      }
      run_count = 0;
      run_value = 0;
    };
    for (uint32_t c = n.first_child; c != TreeNode::kNone; c = nodes[c].next_sibling) {
      const int64_t v = nodes[c].total;
      if (static_cast<double>(v) < min_samples || v == 0) {
        if (run_count == 0) run_x = x;
        ++run_count;
        run_value += v;
      } else {
        flush_run();
        kids.push_back({c, x, 0, 0, t.depth + 1});
      }
      x += v;
    }
    flush_run();
    for (size_t i = kids.size(); i-- > 0;) stack.push_back(kids[i]);
  }

  // Diff colours: the change of each frame's self share, scaled by the largest change drawn.
  std::vector<double> change;
  if (diff) {
    change.assign(placed.size(), 0.0);
    double max_change = 0;
    for (size_t i = 0; i < placed.size(); ++i) {
      if (placed[i].node == TreeNode::kNone) continue;
      const uint32_t id = placed[i].node;
      const double c = static_cast<double>(nodes[id].self) / static_cast<double>(total) -
                       static_cast<double>(tree.base_self(id)) / static_cast<double>(base_total);
      change[i] = c;
      max_change = std::max(max_change, std::fabs(c));
    }
    if (max_change > 0) {
      for (double& c : change) c /= max_change;
    }
  }

  const int height = kPadTop + kPadBottom + static_cast<int>(max_depth + 1) * kSvgFrameHeight;
  out.reserve(out.size() + placed.size() * 110 + 64 * 1024);
  out += "<?xml version=\"1.0\" standalone=\"no\"?>\n"
         "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
         "<svg version=\"1.1\" width=\"";
  put_int(out, options_.width);
  out += "\" height=\"";
  put_int(out, height);
  out += "\" viewBox=\"0 0 ";
  put_int(out, options_.width);
  out += " ";
  put_int(out, height);
  out += "\" onload=\"fg_init(evt)\" xmlns=\"http://www.w3.org/2000/svg\" "
         "xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<style type=\"text/css\">";
  out += kSvgStyle;
  out += "</style>\n<rect id=\"background\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#f8f8f4\"/>\n";
  out += "<text id=\"title\" x=\"";
  put_int(out, options_.width / 2);
  out += "\" y=\"";
  put_int(out, kFontSize * 2);
  out += "\">";
  put_xml(out, options_.title);
  out += "</text>\n<text id=\"subtitle\" x=\"";
  put_int(out, options_.width / 2);
  out += "\" y=\"";
  put_int(out, kFontSize * 3 + 2);
  out += "\">";
  put_xml(out, options_.subtitle);
  out += "</text>\n<text id=\"unzoom\" class=\"button hide\" x=\"";
  put_int(out, kSvgPadX);
  out += "\" y=\"";
  put_int(out, kFontSize * 2);
  out += "\">Reset Zoom</text>\n<text id=\"search\" class=\"button\" x=\"";
  put_int(out, options_.width - kSvgPadX);
  out += "\" y=\"";
  put_int(out, kFontSize * 2);
  out += "\">Search</text>\n<text id=\"details\" x=\"";
  put_int(out, kSvgPadX);
  out += "\" y=\"";
  put_int(out, height - kFontSize / 2 - 4);
  out += "\"> </text>\n<text id=\"matched\" x=\"";
  put_int(out, options_.width - kSvgPadX);
  out += "\" y=\"";
  put_int(out, height - kFontSize / 2 - 4);
  out += "\"> </text>\n<g id=\"legend\"></g>\n<g id=\"frames\">\n";

  auto frame_y = [&](uint32_t depth) {
    return options_.inverted ? kPadTop + static_cast<int>(depth) * kSvgFrameHeight
                             : height - kPadBottom - static_cast<int>(depth + 1) * kSvgFrameHeight;
  };
  char color[8] = {};
  for (size_t i = 0; i < placed.size(); ++i) {
    const Placed& p = placed[i];
    Rgb c;
    if (p.flags & kMergedFlag || p.node == 0) {
      c = neutral_color();
    } else if (diff) {
      c = diff_color(change[i]);
    } else {
      c = frame_color(static_cast<FrameKind>(p.flags & 7), names[p.name], p.flags & kInlinedFlag);
    }
    format_rgb(c, color);
    out += "<rect x=\"";
    put_px(out, kSvgPadX + static_cast<double>(p.x) * scale);
    out += "\" y=\"";
    put_int(out, frame_y(p.depth));
    out += "\" width=\"";
    put_px(out, static_cast<double>(p.value) * scale);
    out += "\" height=\"";
    put_int(out, kSvgFrameHeight - 1);
    out += "\" fill=\"";
    out.append(color, 7);
    out += (p.flags & kInlinedFlag) ? "\" class=\"i\"/>\n" : "\"/>\n";
  }
  out += "</g>\n<g id=\"labels\">\n";
  for (const Placed& p : placed) {
    const double w = static_cast<double>(p.value) * scale;
    if (w < 3 * kCharWidth) continue;
    const std::string& name = names[p.name];
    const auto fit = static_cast<size_t>((w - 6) / kCharWidth);
    if (fit < 3) continue;
    out += "<text x=\"";
    put_px(out, kSvgPadX + static_cast<double>(p.x) * scale + 3);
    out += "\" y=\"";
    put_int(out, frame_y(p.depth) + kSvgFrameHeight - 5);
    out += "\">";
    if (name.size() <= fit) {
      put_xml(out, name);
    } else {
      put_xml(out, std::string_view(name).substr(0, fit - 2));
      out += "..";
    }
    out += "</text>\n";
  }
  out += "</g>\n<g id=\"tip\" visibility=\"hidden\"><rect id=\"tipbox\" rx=\"3\" ry=\"3\"/>"
         "<text id=\"tip0\"> </text><text id=\"tip1\"> </text><text id=\"tip2\"> </text></g>\n";

  // The data the script reads: one entry per <rect>, in the same order.
  out += "<script type=\"text/ecmascript\"><![CDATA[\nvar D={width:";
  put_int(out, options_.width);
  out += ",padx:";
  put_int(out, kSvgPadX);
  out += ",fontsize:";
  put_int(out, kFontSize);
  out += ",charw:";
  put_px(out, kCharWidth);
  out += ",frameh:";
  put_int(out, kSvgFrameHeight);
  out += ",inverted:";
  out += options_.inverted ? "true" : "false";
  out += ",total:";
  put_int(out, tree.total());
  out += ",base_total:";
  put_int(out, diff ? tree.base_total(0) : 0);
  out += ",unit:";
  put_js_string(out, tree.value_type().unit);
  out += ",vtype:";
  put_js_string(out, tree.value_type().type);
  out += ",\nnames:[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out.push_back(',');
    put_js_string(out, names[i]);
  }
  out += "],\nn:[";
  for (size_t i = 0; i < placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, placed[i].name);
  }
  out += "],\nd:[";
  for (size_t i = 0; i < placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, placed[i].depth);
  }
  out += "],\nx:[";
  for (size_t i = 0; i < placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, placed[i].x);
  }
  out += "],\nv:[";
  for (size_t i = 0; i < placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, placed[i].value);
  }
  out += "],\nk:[";
  for (size_t i = 0; i < placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, placed[i].flags);
  }
  out += "],\nb:";
  if (diff) {
    out.push_back('[');
    for (size_t i = 0; i < placed.size(); ++i) {
      if (i) out.push_back(',');
      put_int(out, placed[i].node == TreeNode::kNone ? 0 : tree.base_total(placed[i].node));
    }
    out += "]};\n";
  } else {
    out += "null};\n";
  }
  out += kSvgScript;
  out += "]]></script>\n</svg>\n";
  return {};
}

}  // namespace goperf::flamegraph

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

// The frames in drawing order, and the names table their `name` indexes.
struct Layout {
  std::vector<Placed> placed;
  std::vector<std::string> names;
  uint32_t max_depth = 0;
};

// A node's children left to right; runs of siblings narrower than min_samples become one merged task.
struct Task {
  uint32_t node;
  int64_t x;
  int64_t value;     // merged runs only
  uint32_t merged;   // number of frames merged (0: a real node)
  uint32_t depth;
};

void push_children(const std::vector<TreeNode>& nodes, const Task& t, double min_samples, std::vector<Task>& kids) {
  const TreeNode& n = nodes[t.node];
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
}

// Pre-order, children left to right, so that a subtree is one contiguous range of `placed`.
Layout lay_out(const CallTree& tree, double min_samples, double min_width) {
  const auto& nodes = tree.nodes();
  const auto& frames = tree.frames();
  Layout l;
  std::unordered_map<uint32_t, uint32_t> name_of_frame;
  std::unordered_map<std::string, uint32_t> merged_names;
  auto name_index = [&](auto& index, const auto& key, const std::string& name) {
    auto [it, inserted] = index.emplace(key, static_cast<uint32_t>(l.names.size()));
    if (inserted) l.names.push_back(name);
    return it->second;
  };
  std::vector<Task> stack{{0, 0, 0, 0, 0}};
  std::vector<Task> kids;
  while (!stack.empty()) {
    Task t = stack.back();
    stack.pop_back();
    l.max_depth = std::max(l.max_depth, t.depth);
    if (t.merged) {
      const std::string name = merged_name(t.merged, min_width);
      l.placed.push_back({name_index(merged_names, name, name), TreeNode::kNone, t.depth, t.x, t.value,
                          static_cast<uint8_t>(static_cast<uint8_t>(FrameKind::kUnknown) | kMergedFlag)});
      continue;
    }
    const TreeNode& n = nodes[t.node];
    const TreeFrame& f = frames[n.frame];
    l.placed.push_back({name_index(name_of_frame, n.frame, f.name), t.node, t.depth, t.x, n.total,
                        static_cast<uint8_t>(static_cast<uint8_t>(f.kind) | (f.inlined ? kInlinedFlag : 0))});
    push_children(nodes, t, min_samples, kids);
    for (size_t i = kids.size(); i-- > 0;) stack.push_back(kids[i]);
  }
  return l;
}

// Diff colours: the change of each frame's self share, scaled by the largest change drawn.
std::vector<double> self_share_changes(const CallTree& tree, const Layout& l) {
  const int64_t total = std::max<int64_t>(tree.total(), 1);
  const int64_t base_total = std::max<int64_t>(tree.base_total(0), 1);
  std::vector<double> change(l.placed.size(), 0.0);
  double max_change = 0;
  for (size_t i = 0; i < l.placed.size(); ++i) {
    if (l.placed[i].node == TreeNode::kNone) continue;
    const uint32_t id = l.placed[i].node;
    const double c = static_cast<double>(tree.nodes()[id].self) / static_cast<double>(total) -
                     static_cast<double>(tree.base_self(id)) / static_cast<double>(base_total);
    change[i] = c;
    max_change = std::max(max_change, std::fabs(c));
  }
  if (max_change > 0) {
    for (double& c : change) c /= max_change;
  }
  return change;
}

// <text id=ID x=X y=Y CLASS>TEXT</text>
void put_text(std::string& out, const char* id, const char* cls, int x, int y, std::string_view text) {
  out += "<text id=\"";
  out += id;
  out += "\"";
  if (cls) {
    out += " class=\"";
    out += cls;
    out += "\"";
  }
  out += " x=\"";
  put_int(out, x);
  out += "\" y=\"";
  put_int(out, y);
  out += "\">";
  put_xml(out, text);
  out += "</text>\n";
}

// The document up to the frames: size, style, background, title, buttons, the details lines.
void put_head(std::string& out, const SvgOptions& o, int height) {
  out += "<?xml version=\"1.0\" standalone=\"no\"?>\n"
         "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
         "<svg version=\"1.1\" width=\"";
  put_int(out, o.width);
  out += "\" height=\"";
  put_int(out, height);
  out += "\" viewBox=\"0 0 ";
  put_int(out, o.width);
  out += " ";
  put_int(out, height);
  out += "\" onload=\"fg_init(evt)\" xmlns=\"http://www.w3.org/2000/svg\" "
         "xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<style type=\"text/css\">";
  out += kSvgStyle;
  out += "</style>\n<rect id=\"background\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#f8f8f4\"/>\n";
  put_text(out, "title", nullptr, o.width / 2, kFontSize * 2, o.title);
  put_text(out, "subtitle", nullptr, o.width / 2, kFontSize * 3 + 2, o.subtitle);
  put_text(out, "unzoom", "button hide", kSvgPadX, kFontSize * 2, "Reset Zoom");
  put_text(out, "search", "button", o.width - kSvgPadX, kFontSize * 2, "Search");
  put_text(out, "details", nullptr, kSvgPadX, height - kFontSize / 2 - 4, " ");
  put_text(out, "matched", nullptr, o.width - kSvgPadX, height - kFontSize / 2 - 4, " ");
  out += "<g id=\"legend\"></g>\n";
}

// Where frames sit: x in pixels from sample units, y from the depth (icicle or flame).
struct Geometry {
  double scale;
  int height;
  bool inverted;
  int y(uint32_t depth) const {
    return inverted ? kPadTop + static_cast<int>(depth) * kSvgFrameHeight
                    : height - kPadBottom - static_cast<int>(depth + 1) * kSvgFrameHeight;
  }
  double x(int64_t units) const { return kSvgPadX + static_cast<double>(units) * scale; }
};

// One <rect> per frame, coloured by kind (or by change, for a diff): what viewers without scripts show.
void put_rects(std::string& out, const Layout& l, const Geometry& g, const std::vector<double>* change) {
  out += "<g id=\"frames\">\n";
  char color[8] = {};
  for (size_t i = 0; i < l.placed.size(); ++i) {
    const Placed& p = l.placed[i];
    Rgb c;
    if (p.flags & kMergedFlag || p.node == 0) {
      c = neutral_color();
    } else if (change) {
      c = diff_color((*change)[i]);
    } else {
      c = frame_color(static_cast<FrameKind>(p.flags & 7), l.names[p.name], p.flags & kInlinedFlag);
    }
    format_rgb(c, color);
    out += "<rect x=\"";
    put_px(out, g.x(p.x));
    out += "\" y=\"";
    put_int(out, g.y(p.depth));
    out += "\" width=\"";
    put_px(out, static_cast<double>(p.value) * g.scale);
    out += "\" height=\"";
    put_int(out, kSvgFrameHeight - 1);
    out += "\" fill=\"";
    out.append(color, 7);
    out += (p.flags & kInlinedFlag) ? "\" class=\"i\"/>\n" : "\"/>\n";
  }
  out += "</g>\n";
}

// The names of frames wide enough for three characters, cut with ".." to fit.
void put_labels(std::string& out, const Layout& l, const Geometry& g) {
  out += "<g id=\"labels\">\n";
  for (const Placed& p : l.placed) {
    const double w = static_cast<double>(p.value) * g.scale;
    if (w < 3 * kCharWidth) continue;
    const std::string& name = l.names[p.name];
    const auto fit = static_cast<size_t>((w - 6) / kCharWidth);
    if (fit < 3) continue;
    out += "<text x=\"";
    put_px(out, g.x(p.x) + 3);
    out += "\" y=\"";
    put_int(out, g.y(p.depth) + kSvgFrameHeight - 5);
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
}

// ",\nKEY:[v0,v1,...]" over the placed frames.
template <typename Field>
void put_array(std::string& out, const char* key, const Layout& l, Field field) {
  out += "],\n";
  out += key;
  out += ":[";
  for (size_t i = 0; i < l.placed.size(); ++i) {
    if (i) out.push_back(',');
    put_int(out, field(l.placed[i]));
  }
}

// The data the script reads: one entry per <rect>, in the same order (k: FrameKind | flags).
void put_data(std::string& out, const SvgOptions& o, const CallTree& tree, const Layout& l) {
  const bool diff = tree.has_base();
  out += "<script type=\"text/ecmascript\"><![CDATA[\nvar D={width:";
  put_int(out, o.width);
  out += ",padx:";
  put_int(out, kSvgPadX);
  out += ",fontsize:";
  put_int(out, kFontSize);
  out += ",charw:";
  put_px(out, kCharWidth);
  out += ",frameh:";
  put_int(out, kSvgFrameHeight);
  out += ",inverted:";
  out += o.inverted ? "true" : "false";
  out += ",total:";
  put_int(out, tree.total());
  out += ",base_total:";
  put_int(out, diff ? tree.base_total(0) : 0);
  out += ",unit:";
  put_js_string(out, tree.value_type().unit);
  out += ",vtype:";
  put_js_string(out, tree.value_type().type);
  out += ",\nnames:[";
  for (size_t i = 0; i < l.names.size(); ++i) {
    if (i) out.push_back(',');
    put_js_string(out, l.names[i]);
  }
  put_array(out, "n", l, [](const Placed& p) { return int64_t{p.name}; });
  put_array(out, "d", l, [](const Placed& p) { return int64_t{p.depth}; });
  put_array(out, "x", l, [](const Placed& p) { return p.x; });
  put_array(out, "v", l, [](const Placed& p) { return p.value; });
  put_array(out, "k", l, [](const Placed& p) { return int64_t{p.flags}; });
  out += "],\nb:";
  if (diff) {
    out.push_back('[');
    for (size_t i = 0; i < l.placed.size(); ++i) {
      if (i) out.push_back(',');
      put_int(out, l.placed[i].node == TreeNode::kNone ? 0 : tree.base_total(l.placed[i].node));
    }
    out += "]};\n";
  } else {
    out += "null};\n";
  }
  out += kSvgScript;
  out += "]]></script>\n";
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
  const int64_t total = std::max<int64_t>(tree.total(), 1);
  const double scale = (options_.width - 2.0 * kSvgPadX) / static_cast<double>(total);
  const Layout layout = lay_out(tree, options_.min_width / scale, options_.min_width);
  const std::vector<double> change = tree.has_base() ? self_share_changes(tree, layout) : std::vector<double>{};
  const Geometry geometry{scale, kPadTop + kPadBottom + static_cast<int>(layout.max_depth + 1) * kSvgFrameHeight,
                          options_.inverted};
  out.reserve(out.size() + layout.placed.size() * 110 + 64 * 1024);
  put_head(out, options_, geometry.height);
  put_rects(out, layout, geometry, tree.has_base() ? &change : nullptr);
  put_labels(out, layout, geometry);
  put_data(out, options_, tree, layout);
  out += "</svg>\n";
  return {};
}

}  // namespace goperf::flamegraph

// TextWriter: flat = value of samples whose innermost frame is the function; cum = value of samples with
// the function anywhere on the stack, counted once per sample (pprof's definitions, internal/report).
#include "flamegraph/text_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <unordered_map>

namespace goperf::flamegraph {
namespace {

// pprof's number format (internal/measurement ScaledLabel): two decimals, ".00" dropped.
std::string trim_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s.size() > 3 && s.compare(s.size() - 3, 3, ".00") == 0) s.resize(s.size() - 3);
  return s == "-0" ? "0" : s;
}

// pprof's percentages (internal/measurement Percentage): at least two significant digits.
std::string percent(int64_t v, int64_t total) {
  const double ratio = total == 0 ? 0 : std::fabs(static_cast<double>(v) / static_cast<double>(total)) * 100;
  char buf[32];
  if (ratio >= 99.95 && ratio <= 100.05) return "  100%";
  std::snprintf(buf, sizeof buf, ratio >= 1.0 ? "%5.2f%%" : "%5.2g%%", ratio);
  return buf;
}

}  // namespace

std::string format_value(int64_t value, const std::string& unit) {
  const double a = std::fabs(static_cast<double>(value));
  const auto v = static_cast<double>(value);
  if (value == 0) return "0";
  if (unit == "nanoseconds") {
    if (a >= 1e9) return trim_float(v / 1e9) + "s";
    if (a >= 1e6) return trim_float(v / 1e6) + "ms";
    if (a >= 1e3) return trim_float(v / 1e3) + "us";
    return std::to_string(value) + "ns";
  }
  if (unit == "bytes") {
    if (a >= 1024.0 * 1024 * 1024) return trim_float(v / (1024.0 * 1024 * 1024)) + "GB";
    if (a >= 1024.0 * 1024) return trim_float(v / (1024.0 * 1024)) + "MB";
    if (a >= 1024.0) return trim_float(v / 1024.0) + "kB";
    return std::to_string(value) + "B";
  }
  return std::to_string(value);
}

namespace {

// One row per function (or function:line): flat = value of samples whose innermost frame it is, cum =
// value of samples with it anywhere on the stack, counted once per sample.
struct Table {
  std::vector<std::string> keys;
  std::vector<bool> inlined_only;
  std::vector<int64_t> flat, cum;
  int64_t total = 0;
};

// Function keys per location, innermost first (a sample's leaf is loc_keys[first location][0]).
std::vector<std::vector<uint32_t>> key_locations(const Profile& p, bool lines, Table& t) {
  std::unordered_map<std::string, uint32_t> key_index;
  std::vector<std::vector<uint32_t>> loc_keys(p.locations.size());
  for (size_t i = 0; i < p.locations.size(); ++i) {
    const Location& loc = p.locations[i];
    auto add = [&](std::string name, bool inl) {
      auto [it, ins] = key_index.emplace(name, static_cast<uint32_t>(t.keys.size()));
      if (ins) {
        t.keys.push_back(std::move(name));
        t.inlined_only.push_back(inl);
      } else if (!inl) {
        t.inlined_only[it->second] = false;
      }
      loc_keys[i].push_back(it->second);
    };
    if (loc.lines.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(loc.address));
      add(buf, false);
    }
    for (size_t j = 0; j < loc.lines.size(); ++j) add(frame_name(p, loc.lines[j], lines), j + 1 != loc.lines.size());
  }
  return loc_keys;
}

Table tabulate(const Profile& p, int vi, bool lines) {
  Table t;
  const auto loc_keys = key_locations(p, lines, t);
  t.flat.assign(t.keys.size(), 0);
  t.cum.assign(t.keys.size(), 0);
  std::vector<size_t> seen(t.keys.size(), SIZE_MAX);
  for (size_t si = 0; si < p.samples.size(); ++si) {
    const Sample& s = p.samples[si];
    if (static_cast<size_t>(vi) >= s.values.size()) continue;
    const int64_t v = s.values[vi];
    t.total += v;
    if (s.locations.empty()) continue;
    const auto& leaf = loc_keys[s.locations[0]];
    if (!leaf.empty()) t.flat[leaf[0]] += v;
    for (uint32_t loc : s.locations) {
      for (uint32_t k : loc_keys[loc]) {
        if (seen[k] == si) continue;  // recursion: count a function once per sample
        seen[k] = si;
        t.cum[k] += v;
      }
    }
  }
  return t;
}

// pprof's orders (internal/graph: FlatNameOrder, CumNameOrder): by |flat| (or |cum|), ties by name.
std::vector<uint32_t> row_order(const Table& t, bool cum) {
  std::vector<uint32_t> order;
  for (uint32_t k = 0; k < t.keys.size(); ++k) {
    if (t.flat[k] != 0 || t.cum[k] != 0) order.push_back(k);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const auto& first = cum ? t.cum : t.flat;
    if (first[a] != first[b]) return std::llabs(first[a]) > std::llabs(first[b]);
    if (t.keys[a] != t.keys[b]) return t.keys[a] < t.keys[b];
    return std::llabs(t.cum[a]) > std::llabs(t.cum[b]);
  });
  return order;
}

// pprof's report header (internal/report ProfileLabels): the main binary, the value's type, when, for
// how long, and the total.
std::string header(const Profile& p, int vi, int64_t total, const std::string& unit) {
  std::string out;
  if (!p.mappings.empty() && !p.mappings[0].filename.empty()) {
    const std::string& file = p.mappings[0].filename;
    out += "File: " + file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1) + "\n";
    if (!p.mappings[0].build_id.empty()) out += "Build ID: " + p.mappings[0].build_id + "\n";
  }
  for (const std::string& c : p.comments) {
    if (!c.empty() && c[0] != '#') out += c + "\n";
  }
  if (static_cast<size_t>(vi) < p.sample_types.size()) out += "Type: " + p.sample_types[vi].type + "\n";
  if (p.time_nanos != 0) {
    const std::time_t t = static_cast<std::time_t>(p.time_nanos / 1000000000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
    out += std::string("Time: ") + when + "\n";
  }
  if (p.duration_nanos != 0) {
    // As pprof prints it, with the space before an empty ratio.
    out += "Duration: " + format_value(p.duration_nanos, "nanoseconds") + ", Total samples = " +
           format_value(total, unit) + " ";
    if (unit == "nanoseconds" && total != 0) out += "(" + percent(total, p.duration_nanos) + ")";
    out += "\n";
  }
  return out;
}

}  // namespace

Status TextWriter::write(const Profile& p, std::string& out) const {
  const int vi = resolve_value_index(p, options_.tree.value_index);
  const std::string unit = static_cast<size_t>(vi) < p.sample_types.size() ? p.sample_types[vi].unit : "";
  const Table t = tabulate(p, vi, options_.tree.lines);
  const std::vector<uint32_t> order = row_order(t, options_.cum);
  size_t rows = order.size();
  if (options_.max_rows > 0) rows = std::min(rows, options_.max_rows);
  int64_t shown = 0;
  for (size_t i = 0; i < rows; ++i) shown += t.flat[order[i]];
  if (options_.header) out += header(p, vi, t.total, unit);
  std::string shown_share = percent(shown, t.total);
  shown_share.erase(0, shown_share.find_first_not_of(' '));
  out += "Showing nodes accounting for " + format_value(shown, unit) + ", " + shown_share + " of " +
         format_value(t.total, unit) + " total\n";
  if (rows < order.size()) {
    out += "Showing top " + std::to_string(rows) + " nodes out of " + std::to_string(order.size()) + "\n";
  }
  char line[256];
  std::snprintf(line, sizeof line, "%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
  out += line;
  int64_t sum = 0;
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t k = order[i];
    sum += t.flat[k];
    std::snprintf(line, sizeof line, "%10s %6s %6s %10s %6s  ", format_value(t.flat[k], unit).c_str(),
                  percent(t.flat[k], t.total).c_str(), percent(sum, t.total).c_str(),
                  format_value(t.cum[k], unit).c_str(), percent(t.cum[k], t.total).c_str());
    out += line;
    out += t.keys[k];
    if (t.inlined_only[k]) out += " (inline)";
    out.push_back('\n');
  }
  return {};
}

}  // namespace goperf::flamegraph

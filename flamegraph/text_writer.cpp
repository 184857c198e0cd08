// TextWriter: flat = value of samples whose innermost frame is the function; cum = value of samples with
// the function anywhere on the stack, counted once per sample (pprof's definitions, internal/report).
#include "flamegraph/text_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

namespace goperf::flamegraph {
namespace {

std::string trim_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string percent(int64_t v, int64_t total) {
  if (total == 0) return "0%";
  return trim_float(100.0 * static_cast<double>(v) / static_cast<double>(total)) + "%";
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

Status TextWriter::write(const Profile& p, std::string& out) const {
  const int vi = resolve_value_index(p, options_.tree.value_index);
  const std::string unit = static_cast<size_t>(vi) < p.sample_types.size() ? p.sample_types[vi].unit : "";
  // Function keys per location, innermost first (the sample's leaf is loc_keys[first location][0]).
  std::unordered_map<std::string, uint32_t> key_index;
  std::vector<std::string> keys;
  std::vector<bool> inlined_only;
  std::vector<std::vector<uint32_t>> loc_keys(p.locations.size());
  for (size_t i = 0; i < p.locations.size(); ++i) {
    const Location& loc = p.locations[i];
    auto add = [&](std::string name, bool inl) {
      auto [it, ins] = key_index.emplace(name, static_cast<uint32_t>(keys.size()));
      if (ins) {
        keys.push_back(std::move(name));
        inlined_only.push_back(inl);
      } else if (!inl) {
        inlined_only[it->second] = false;
      }
      loc_keys[i].push_back(it->second);
    };
    if (loc.lines.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(loc.address));
      add(buf, false);
    }
    for (size_t j = 0; j < loc.lines.size(); ++j) {
      add(frame_name(p, loc.lines[j], options_.tree.lines), j + 1 != loc.lines.size());
    }
  }
  std::vector<int64_t> flat(keys.size(), 0), cum(keys.size(), 0);
  std::vector<size_t> seen(keys.size(), SIZE_MAX);
  int64_t total = 0;
  for (size_t si = 0; si < p.samples.size(); ++si) {
    const Sample& s = p.samples[si];
    if (static_cast<size_t>(vi) >= s.values.size()) continue;
    const int64_t v = s.values[vi];
    total += v;
    if (s.locations.empty()) continue;
    const auto& leaf = loc_keys[s.locations[0]];
    if (!leaf.empty()) flat[leaf[0]] += v;
    for (uint32_t loc : s.locations) {
      for (uint32_t k : loc_keys[loc]) {
        if (seen[k] == si) continue;  // recursion: count a function once per sample
        seen[k] = si;
        cum[k] += v;
      }
    }
  }
  std::vector<uint32_t> order;
  for (uint32_t k = 0; k < keys.size(); ++k) {
    if (flat[k] != 0 || cum[k] != 0) order.push_back(k);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    // pprof's "flat" order: by flat value, ties by name.
    if (flat[a] != flat[b]) return std::llabs(flat[a]) > std::llabs(flat[b]);
    return keys[a] < keys[b];
  });
  size_t rows = order.size();
  if (options_.max_rows > 0) rows = std::min(rows, options_.max_rows);
  int64_t shown = 0;
  for (size_t i = 0; i < rows; ++i) shown += flat[order[i]];
  char line[256];
  out += "Showing nodes accounting for " + format_value(shown, unit) + ", " + percent(shown, total) + " of " +
         format_value(total, unit) + " total\n";
  if (rows < order.size()) {
    out += "Showing top " + std::to_string(rows) + " nodes out of " + std::to_string(order.size()) + "\n";
  }
  std::snprintf(line, sizeof line, "%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
  out += line;
  int64_t sum = 0;
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t k = order[i];
    sum += flat[k];
    std::snprintf(line, sizeof line, "%10s %6s %6s %10s %6s  ", format_value(flat[k], unit).c_str(),
                  percent(flat[k], total).c_str(), percent(sum, total).c_str(), format_value(cum[k], unit).c_str(),
                  percent(cum[k], total).c_str());
    out += line;
    out += keys[k];
    if (inlined_only[k]) out += " (inline)";
    out.push_back('\n');
  }
  return {};
}

}  // namespace goperf::flamegraph

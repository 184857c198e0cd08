// FoldedWriter: each location's frames are named once; samples that fold to the same line are summed.
#include "flamegraph/folded_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

namespace goperf::flamegraph {
namespace {

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

Status FoldedWriter::write(const Profile& p, std::string& out) const {
  // Folded counts are sample counts (stackcollapse-go.pl's convention): prefer the "samples" value when
  // none was asked for, e.g. over cpu nanoseconds in a CPU profile.
  int vi = resolve_value_index(p, options_.tree.value_index);
  if (options_.tree.value_index < 0) {
    for (size_t i = 0; i < p.sample_types.size(); ++i) {
      if (p.sample_types[i].type == "samples") vi = static_cast<int>(i);
    }
  }
  // Frame names per location, root first.
  std::vector<std::vector<std::string>> names(p.locations.size());
  for (size_t i = 0; i < p.locations.size(); ++i) {
    const Location& loc = p.locations[i];
    const bool kernel = loc.mapping >= 0 && static_cast<size_t>(loc.mapping) < p.mappings.size() &&
                        p.mappings[loc.mapping].filename.rfind("[kernel", 0) == 0;
    if (loc.lines.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(loc.address));
      names[i].push_back(buf);
    }
    for (size_t j = loc.lines.size(); j-- > 0;) {
      std::string name = frame_name(p, loc.lines[j], options_.tree.lines);
      // ';' separates frames and the last blank separates the count: neither may end up inside a name
      // where it would change the stack (a blank is harmless: readers split at the last one).
      std::replace(name.begin(), name.end(), ';', ':');
      if (options_.annotate) {
        if (j + 1 != loc.lines.size()) name += "_[i]";
        else if (kernel && !ends_with(name, "_[k]")) name += "_[k]";
      }
      names[i].push_back(std::move(name));
    }
  }
  std::unordered_map<std::string, size_t> index;
  std::vector<std::pair<std::string, int64_t>> lines;
  std::string key;
  for (const Sample& s : p.samples) {
    if (static_cast<size_t>(vi) >= s.values.size() || s.values[vi] == 0) continue;
    key.clear();
    auto add = [&](const std::string& n) {
      if (!key.empty()) key.push_back(';');
      key += n;
    };
    if (!options_.tree.reverse) {
      for (size_t i = s.locations.size(); i-- > 0;) {
        for (const std::string& n : names[s.locations[i]]) add(n);
      }
    } else {
      for (uint32_t loc : s.locations) {
        const auto& ns = names[loc];
        for (size_t j = ns.size(); j-- > 0;) add(ns[j]);
      }
    }
    if (key.empty()) continue;  // flamegraph.pl cannot read a line without frames
    auto [it, inserted] = index.emplace(key, lines.size());
    if (inserted) lines.emplace_back(key, 0);
    lines[it->second].second += s.values[vi];
  }
  for (const auto& [stack, count] : lines) {
    out += stack;
    out.push_back(' ');
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, count);
    out.append(buf, r.ptr);
    out.push_back('\n');
  }
  return {};
}

}  // namespace goperf::flamegraph

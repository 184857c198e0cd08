// Matching the groups of two dumps by their key (state, lock, frames, creator) and writing the result.
#include "profiler/dump/goroutine_diff.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "profiler/dump/goroutine_dump_reader.h"
#include "profiler/json_string.h"

namespace goperf::profiler {

namespace {

std::vector<uint64_t> common_ids(std::vector<uint64_t> a, std::vector<uint64_t> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Grown first (most first), then unchanged, then shrunk and vanished (least loss first); ties: larger now.
bool before(const GroupChange& a, const GroupChange& b) {
  if (a.change() != b.change()) return a.change() > b.change();
  return a.new_count > b.new_count;
}

void append_frames_text(std::string& out, const GoroutineGroup& g) {
  for (const auto& f : g.frames) {
    out += f.function.empty() ? "?" : f.function;
    out += f.is_go ? "(...)\n\t" + f.file + ":" + std::to_string(f.line) + "\n" : "()\n\t?:0\n";
  }
  if (!g.creator.empty()) out += "created by " + g.creator + "\n\t" + g.creator_file + ":" + std::to_string(g.creator_line) + "\n";
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

GoroutineDiff diff_goroutine_dumps(RecordedDump old_dump, std::string old_name, std::vector<GoroutineGroup> now,
                                   size_t now_goroutines, const DumpOrigin& now_origin) {
  GoroutineDiff d;
  d.old_origin = old_dump.origin;
  d.new_origin = now_origin;
  d.old_name = std::move(old_name);
  d.old_goroutines = old_dump.goroutines;
  d.new_goroutines = now_goroutines;
  d.same_process = same_process(d.old_origin, d.new_origin);
  if (d.old_origin.taken_at > 0 && d.new_origin.taken_at > 0) d.seconds_between = d.new_origin.taken_at - d.old_origin.taken_at;
  std::unordered_map<std::string, size_t> old_index;
  for (size_t i = 0; i < old_dump.groups.size(); ++i) old_index.emplace(old_dump.groups[i].key, i);
  std::vector<bool> matched(old_dump.groups.size());
  for (auto& g : now) {
    GroupChange c;
    c.new_count = g.ids.size();
    if (auto it = old_index.find(g.key); it != old_index.end()) {
      matched[it->second] = true;
      const GoroutineGroup& old_group = old_dump.groups[it->second];
      c.old_count = old_group.ids.size();
      if (d.same_process) c.stuck = common_ids(old_group.ids, g.ids);
    }
    c.group = std::move(g);
    d.changes.push_back(std::move(c));
  }
  for (size_t i = 0; i < old_dump.groups.size(); ++i) {
    if (matched[i]) continue;
    GroupChange c;
    c.old_count = old_dump.groups[i].ids.size();
    c.group = std::move(old_dump.groups[i]);
    c.group.ids.clear();
    d.changes.push_back(std::move(c));
  }
  std::stable_sort(d.changes.begin(), d.changes.end(), before);
  return d;
}

std::string format_goroutine_diff_text(const GoroutineDiff& d) {
  std::string out = "goroutines: " + std::to_string(d.old_goroutines) + " in " + d.old_name + ", " +
                    std::to_string(d.new_goroutines) + " now";
  if (d.seconds_between > 0) out += ", " + seconds_text(d.seconds_between) + " later";
  out += d.same_process ? "; same process (pid " + std::to_string(d.new_origin.pid) + ")\n"
                        : "; not the same process: goroutines cannot be followed from one dump to the other\n";
  for (const auto& c : d.changes) {
    const int64_t delta = c.change();
    out += "\n";
    out += delta > 0 ? "+" + std::to_string(delta) : delta == 0 ? "=0" : std::to_string(delta);
    out += " [" + c.group.state + (c.group.locked_to_thread ? ", locked to thread" : "") + "]: ";
    out += std::to_string(c.old_count) + " -> " + std::to_string(c.new_count);
    if (c.old_count == 0) out += ", new group";
    if (c.new_count == 0) out += ", vanished";
    if (!c.stuck.empty()) {
      out += ", " + std::to_string(c.stuck.size()) + " waiting here in both";
      if (d.seconds_between > 0) out += " (for " + seconds_text(d.seconds_between) + " or more)";
    }
    out += "\n";
    append_frames_text(out, c.group);
  }
  return out;
}

std::string format_goroutine_diff_json(const GoroutineDiff& d) {
  std::string out = "{\"old\":" + json_string(d.old_name) + ",\"old_goroutines\":" + std::to_string(d.old_goroutines) +
                    ",\"new_goroutines\":" + std::to_string(d.new_goroutines) +
                    ",\"same_process\":" + (d.same_process ? "true" : "false") + ",\"seconds_between\":" +
                    std::to_string(d.seconds_between) + ",\"changes\":[";
  for (size_t i = 0; i < d.changes.size(); ++i) {
    const GroupChange& c = d.changes[i];
    out += i ? ",\n{\"change\":" : "\n{\"change\":";
    out += std::to_string(c.change()) + ",\"old_count\":" + std::to_string(c.old_count) +
           ",\"new_count\":" + std::to_string(c.new_count) + ",\"stuck\":[";
    for (size_t k = 0; k < c.stuck.size(); ++k) out += (k ? "," : "") + std::to_string(c.stuck[k]);
    out += "],\"group\":";
    append_goroutine_group_json(out, c.group);
    out += '}';
  }
  out += "\n]}\n";
  return out;
}

}  // namespace goperf::profiler

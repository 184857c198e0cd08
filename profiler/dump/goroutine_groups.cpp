// Grouping of goroutines by state and frames, and the groups' text and JSON.
#include "profiler/dump/goroutine_groups.h"

#include <algorithm>
#include <charconv>

#include "profiler/dump/goroutine_filter.h"
#include "profiler/json_string.h"

namespace goperf::profiler {

namespace {

// One key format for goroutines and for groups read back: fields separated by control characters that
// no function name or path holds.
void key_begin(std::string& key, std::string_view state, bool locked) {
  key.assign(state);
  key += locked ? "\x1f" "L" : "\x1f" "-";
}
void key_frame(std::string& key, std::string_view function, std::string_view file, int line) {
  key += '\x1e';
  key += function;
  key += '\x1d';
  key += file;
  key += ':';
  append_decimal(key, line);
}
void key_creator(std::string& key, std::string_view function, std::string_view file, int line) {
  key += '\x1f';
  if (!function.empty()) key_frame(key, function, file, line);
}

bool frame_counts(const DumpFrame& f, TracebackLevel level) { return level == TracebackLevel::kSystem || f.shown; }

// Ids past this many are abbreviated in the text (JSON has them all).
constexpr size_t kIdsShown = 8;

void append_header(std::string& out, const GoroutineGroup& g) {
  append_decimal(out, g.ids.size());
  out += g.ids.size() == 1 ? " goroutine [" : " goroutines [";
  out += g.state;
  if (g.max_wait_minutes >= 1) {
    out += ", ";
    if (g.min_wait_minutes != g.max_wait_minutes) {
      append_decimal(out, g.min_wait_minutes);
      out += '-';
    }
    append_decimal(out, g.max_wait_minutes);
    out += " minutes";
  }
  if (g.locked_to_thread) out += ", locked to thread";
  out += "]:";
  for (size_t i = 0; i < g.ids.size() && i < kIdsShown; ++i) {
    out += ' ';
    append_decimal(out, g.ids[i]);
  }
  if (g.ids.size() > kIdsShown) {
    out += " ... (";
    append_decimal(out, g.ids.size() - kIdsShown);
    out += " more)";
  }
  out += '\n';
}

}  // namespace

void GoroutineGrouper::add(const GoroutineDump& g) {
  if (g.system && level_ != TracebackLevel::kSystem) return;  // tracebackothers skips them
  const bool creator = !g.creator.empty() && (level_ == TracebackLevel::kSystem || g.creator_shown);
  key_begin(key_, g.status_text, g.locked_to_thread);
  for (const auto& f : g.frames)
    if (frame_counts(f, level_)) key_frame(key_, f.function, f.file, f.line);
  key_creator(key_, creator ? g.creator : std::string_view(), g.creator_file, g.creator_line);
  auto it = index_.find(key_);
  if (it == index_.end()) {
    GoroutineGroup group;
    group.state = g.status_text;
    group.locked_to_thread = g.locked_to_thread;
    for (const auto& f : g.frames)
      if (frame_counts(f, level_))
        group.frames.push_back({std::string(f.function), std::string(f.file), f.line, f.inlined, f.is_go});
    if (creator) {
      group.creator = g.creator;
      group.creator_file = g.creator_file;
      group.creator_line = g.creator_line;
    }
    group.min_wait_minutes = group.max_wait_minutes = g.wait_minutes;
    group.key = key_;
    it = index_.emplace(key_, groups_.size()).first;
    groups_.push_back(std::move(group));
  }
  GoroutineGroup& group = groups_[it->second];
  group.ids.push_back(g.goid);
  group.min_wait_minutes = std::min(group.min_wait_minutes, g.wait_minutes);
  group.max_wait_minutes = std::max(group.max_wait_minutes, g.wait_minutes);
}

std::vector<GoroutineGroup> GoroutineGrouper::take_groups() {
  std::vector<GoroutineGroup> out = std::move(groups_);
  groups_.clear();
  index_.clear();
  // Groups are created in dump order, so a stable sort by size keeps the dump's order among equals.
  std::stable_sort(out.begin(), out.end(),
                   [](const GoroutineGroup& a, const GoroutineGroup& b) { return a.ids.size() > b.ids.size(); });
  return out;
}

std::string goroutine_group_key(const GoroutineGroup& group) {
  std::string key;
  key_begin(key, group.state, group.locked_to_thread);
  for (const auto& f : group.frames) key_frame(key, f.function, f.file, f.line);
  key_creator(key, group.creator, group.creator_file, group.creator_line);
  return key;
}

std::string format_goroutine_groups_text(const std::vector<GoroutineGroup>& groups) {
  std::string out;
  for (size_t i = 0; i < groups.size(); ++i) {
    const GoroutineGroup& g = groups[i];
    if (i) out += '\n';
    append_header(out, g);
    for (const auto& f : g.frames) {
      out += f.function.empty() ? std::string_view("?") : std::string_view(f.function);
      out += f.is_go ? "(...)\n\t" : "()\n\t";
      out += f.is_go ? std::string_view(f.file) : std::string_view("?");
      out += ':';
      append_decimal(out, f.is_go ? f.line : 0);
      out += '\n';
    }
    if (!g.creator.empty()) {
      out += "created by ";
      out += g.creator;
      out += "\n\t";
      out += g.creator_file;
      out += ':';
      append_decimal(out, g.creator_line);
      out += '\n';
    }
  }
  return out;
}

void append_goroutine_group_json(std::string& out, const GoroutineGroup& g) {
  out += "{\"count\":";
  append_decimal(out, g.ids.size());
  out += ",\"state\":";
  append_json_string(out, g.state);
  out += ",\"locked_to_thread\":";
  out += g.locked_to_thread ? "true" : "false";
  out += ",\"wait_minutes\":[";
  append_decimal(out, g.min_wait_minutes);
  out += ',';
  append_decimal(out, g.max_wait_minutes);
  out += "],\"ids\":[";
  for (size_t k = 0; k < g.ids.size(); ++k) {
    if (k) out += ',';
    append_decimal(out, g.ids[k]);
  }
  out += "],\"frames\":[";
  for (size_t k = 0; k < g.frames.size(); ++k) {
    const GroupFrame& f = g.frames[k];
    out += k ? ",{\"function\":" : "{\"function\":";
    append_json_string(out, f.function);
    out += ",\"file\":";
    append_json_string(out, f.file);
    out += ",\"line\":";
    append_decimal(out, f.line);
    out += f.inlined ? ",\"inlined\":true" : ",\"inlined\":false";
    out += f.is_go ? ",\"go\":true}" : ",\"go\":false}";
  }
  out += ']';
  if (!g.creator.empty()) {
    append_created_by_open(out, g.creator, g.creator_file, g.creator_line);
    out += '}';
  }
  out += '}';
}

void append_goroutine_groups_json(std::string& out, const std::vector<GoroutineGroup>& groups) {
  out += '[';
  for (size_t i = 0; i < groups.size(); ++i) {
    out += i ? ",\n" : "\n";
    append_goroutine_group_json(out, groups[i]);
  }
  out += groups.empty() ? "]" : "\n]";
}

void append_goroutine_dump_json_tail_with_groups(std::string& out, const std::vector<GoroutineGroup>& groups) {
  out += "\n],\"groups\":";
  append_goroutine_groups_json(out, groups);
  out += "}\n";
}

}  // namespace goperf::profiler

// Goroutine groups (`snapshot --group`, `core --group`): goroutines with the same state and the same
// frames (function and file:line of every frame shown at the dump's level, and of "created by";
// arguments, pcs and wait times ignored) collapse into one group, as panicparse buckets a dump.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "profiler/dump/goroutine_dump.h"

namespace goperf::profiler {

struct GroupFrame {
  std::string function, file;
  int line = 0;
  bool inlined = false;
  bool is_go = true;
};

struct GoroutineGroup {
  std::string state;              // the status text, as in the dump's header ("chan receive")
  bool locked_to_thread = false;
  std::vector<GroupFrame> frames; // innermost first, the frames shown at the grouping level
  std::string creator, creator_file;  // "" when the runtime prints no "created by"
  int creator_line = 0;
  std::vector<uint64_t> ids;      // in the dump's order
  int64_t min_wait_minutes = 0, max_wait_minutes = 0;  // the runtime records minutes only past 1 minute
  // What makes two goroutines "the same": state, lock, frames and creator, as one comparable string.
  std::string key;
};

// Collects goroutines one at a time (no goroutine is kept: only its group's frames and its id).
class GoroutineGrouper {
 public:
  explicit GoroutineGrouper(TracebackLevel level = TracebackLevel::kSystem) : level_(level) {}
  // Goroutines hidden at the level (system goroutines below kSystem) are not counted.
  void add(const GoroutineDump& g);
  // The groups, largest first (ties: the group whose first goroutine comes first in the dump).
  std::vector<GoroutineGroup> take_groups();

 private:
  TracebackLevel level_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<GoroutineGroup> groups_;
  std::string key_;  // reused for every goroutine
};

// The key of a group, from its fields (what GoroutineGrouper computes from a goroutine): lets groups
// read back from JSON be matched with new ones (snapshot --diff).
std::string goroutine_group_key(const GoroutineGroup& group);

// Text: per group a header `N goroutines [state, a-b minutes, locked to thread]: id id id ...`, its
// frames as the runtime prints them but with `(...)` for the ignored arguments, then "created by".
std::string format_goroutine_groups_text(const std::vector<GoroutineGroup>& groups);
// JSON: an array of {count, state, locked_to_thread, wait_minutes:[min,max], ids, frames, created_by}.
void append_goroutine_groups_json(std::string& out, const std::vector<GoroutineGroup>& groups);
void append_goroutine_group_json(std::string& out, const GoroutineGroup& group);

// The end of a streamed dump JSON (instead of append_goroutine_dump_json_tail): closes the goroutine
// array and adds "groups".
void append_goroutine_dump_json_tail_with_groups(std::string& out, const std::vector<GoroutineGroup>& groups);

}  // namespace goperf::profiler

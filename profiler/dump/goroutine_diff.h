// The difference between two goroutine dumps of one program (`snapshot --diff OLD.json`): per group, the
// change in count, new and vanished groups, and the goroutines waiting at the same place in both (when
// both dumps are of the same process: stuck for at least the time between them). Largest growth first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/dump/dump_origin.h"
#include "profiler/dump/goroutine_groups.h"

namespace goperf::profiler {

struct RecordedDump;  // profiler/dump/goroutine_dump_reader.h

struct GroupChange {
  GoroutineGroup group;        // as it is now (as it was, for a vanished group); its ids are the new ones
  size_t old_count = 0, new_count = 0;
  std::vector<uint64_t> stuck; // ids in this group in both dumps (same process only), ascending
  int64_t change() const { return static_cast<int64_t>(new_count) - static_cast<int64_t>(old_count); }
};

struct GoroutineDiff {
  DumpOrigin old_origin, new_origin;
  std::string old_name;        // the OLD file, as given
  size_t old_goroutines = 0, new_goroutines = 0;
  bool same_process = false;
  double seconds_between = 0;  // 0 when either time is unknown
  std::vector<GroupChange> changes;  // largest growth first; unchanged groups last but one, vanished last
};

GoroutineDiff diff_goroutine_dumps(RecordedDump old_dump, std::string old_name, std::vector<GoroutineGroup> now,
                                   size_t now_goroutines, const DumpOrigin& now_origin);

std::string format_goroutine_diff_text(const GoroutineDiff& diff);
std::string format_goroutine_diff_json(const GoroutineDiff& diff);

}  // namespace goperf::profiler

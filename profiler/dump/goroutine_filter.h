// `--filter RE` of snapshot and core: keeps the goroutines one of whose frames (function name or source
// file, "created by" included) the regular expression matches.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "profiler/dump/goroutine_dump.h"

namespace goperf::profiler {

class GoroutineFilter {
 public:
  // An empty pattern keeps everything. The pattern must be valid (checked when options are parsed).
  explicit GoroutineFilter(const std::string& pattern);
  bool keeps(const GoroutineDump& g, TracebackLevel level = TracebackLevel::kSystem);

 private:
  bool matches(std::string_view s);
  std::unique_ptr<std::regex> re_;
  // Thousands of goroutines share a few hundred names: each is searched once.
  std::unordered_map<std::string, bool> seen_;
};

// Empty when `pattern` is a valid --filter, else why not (for the options' error message).
std::string check_goroutine_filter(const std::string& pattern);

}  // namespace goperf::profiler

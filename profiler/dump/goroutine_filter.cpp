// Goroutine filter by a regular expression over frame names and files (ECMAScript syntax, searched).
#include "profiler/dump/goroutine_filter.h"

namespace goperf::profiler {

GoroutineFilter::GoroutineFilter(const std::string& pattern) {
  if (!pattern.empty()) re_ = std::make_unique<std::regex>(pattern, std::regex::optimize);
}

bool GoroutineFilter::matches(std::string_view s) {
  auto it = seen_.find(std::string(s));
  if (it != seen_.end()) return it->second;
  bool hit = std::regex_search(s.begin(), s.end(), *re_);
  seen_.emplace(std::string(s), hit);
  return hit;
}

bool GoroutineFilter::keeps(const GoroutineDump& g, TracebackLevel level) {
  if (!re_) return true;
  for (const auto& f : g.frames) {
    if (level != TracebackLevel::kSystem && !f.shown) continue;
    if (matches(f.function) || matches(f.file)) return true;
  }
  const bool creator = !g.creator.empty() && (level == TracebackLevel::kSystem || g.creator_shown);
  return creator && (matches(g.creator) || matches(g.creator_file));
}

std::string check_goroutine_filter(const std::string& pattern) {
  try {
    std::regex re(pattern);
  } catch (const std::regex_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace goperf::profiler

// One function and one location per process, appended after the others; samples point at them last
// (their stacks are leaf first).
#include "flamegraph/process_roots.h"

namespace goperf::flamegraph {

void add_process_roots(Profile& p, const std::map<int64_t, std::string>& names) {
  std::map<int64_t, uint32_t> root_of;  // pid -> location
  auto root = [&](int64_t pid) {
    if (auto it = root_of.find(pid); it != root_of.end()) return it->second;
    auto name = names.find(pid);
    const std::string prog = name == names.end() || name->second.empty() ? "process" : name->second;
    Function f;
    f.name = prog + " (" + std::to_string(pid) + ")";
    f.system_name = f.name;
    p.functions.push_back(std::move(f));
    Location loc;
    loc.lines.push_back(Line{static_cast<uint32_t>(p.functions.size() - 1), 0});
    p.locations.push_back(std::move(loc));
    const auto index = static_cast<uint32_t>(p.locations.size() - 1);
    root_of.emplace(pid, index);
    return index;
  };
  for (Sample& s : p.samples) {
    for (const Label& l : s.labels) {
      if (l.key == "pid" && l.str.empty()) {
        s.locations.push_back(root(l.num));
        break;
      }
    }
  }
}

}  // namespace goperf::flamegraph

// add_state_roots: one synthetic function and location per state, appended outermost to each sample.
#include "flamegraph/state_roots.h"

#include <string>
#include <unordered_map>

namespace goperf::flamegraph {

bool is_goroutine_state_profile(const Profile& p) {
  return !p.sample_types.empty() && p.sample_types[0].type == "goroutines" && p.sample_types[0].unit == "count";
}

void add_state_roots(Profile& p) {
  if (!is_goroutine_state_profile(p)) return;
  std::unordered_map<std::string, uint32_t> roots;  // state -> location index
  for (Sample& s : p.samples) {
    const Label* state = nullptr;
    for (const Label& l : s.labels) {
      if (l.key == "state" && !l.str.empty()) state = &l;
    }
    if (state == nullptr) continue;
    auto [it, fresh] = roots.try_emplace(state->str);
    if (fresh) {
      Function f;
      f.name = "[" + state->str + "]";
      f.system_name = f.name;
      p.functions.push_back(std::move(f));
      Location loc;
      loc.lines.push_back({static_cast<uint32_t>(p.functions.size() - 1), 0});
      p.locations.push_back(std::move(loc));
      it->second = static_cast<uint32_t>(p.locations.size() - 1);
    }
    s.locations.push_back(it->second);
  }
}

}  // namespace goperf::flamegraph

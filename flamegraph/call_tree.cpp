// CallTree: samples are merged along their root-first frame paths; (parent, frame) -> child lookups go
// through one open-addressing table, the hot path when rendering profiles with many distinct stacks.
#include "flamegraph/call_tree.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace goperf::flamegraph {

// Linear-probing map from (parent << 32 | frame) to a node index; keys are never removed.
struct CallTree::Index {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> values;
  size_t used = 0;
  std::unordered_map<std::string, uint32_t> frames;

  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void grow() {
    std::vector<uint64_t> old_keys = std::move(keys);
    std::vector<uint32_t> old_values = std::move(values);
    const size_t cap = old_keys.empty() ? 1024 : old_keys.size() * 2;
    keys.assign(cap, kEmpty);
    values.assign(cap, 0);
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmpty) continue;
      size_t j = hash(old_keys[i]) & (cap - 1);
      while (keys[j] != kEmpty) j = (j + 1) & (cap - 1);
      keys[j] = old_keys[i];
      values[j] = old_values[i];
    }
  }
  // Returns the slot of `k`: either holding it or the empty slot where it belongs.
  size_t slot(uint64_t k) const {
    const size_t mask = keys.size() - 1;
    size_t j = hash(k) & mask;
    while (keys[j] != kEmpty && keys[j] != k) j = (j + 1) & mask;
    return j;
  }
};

CallTree::CallTree() : index_(std::make_unique<Index>()) { index_->grow(); }
CallTree::CallTree(CallTree&&) noexcept = default;
CallTree& CallTree::operator=(CallTree&&) noexcept = default;
CallTree::~CallTree() = default;

int resolve_value_index(const Profile& profile, int requested) {
  const int n = static_cast<int>(profile.sample_types.size());
  if (requested >= 0 && requested < n) return requested;
  if (profile.default_sample_type >= 0 && profile.default_sample_type < n) return profile.default_sample_type;
  return n > 0 ? n - 1 : 0;
}

std::string frame_name(const Profile& profile, const Line& line, bool lines) {
  std::string name = line.function < profile.functions.size() ? profile.functions[line.function].name : "";
  if (name.empty()) name = "[unknown]";
  // Names are written to line-oriented formats; a stray newline must not split a record.
  std::replace(name.begin(), name.end(), '\n', ' ');
  if (lines) {
    name.push_back(':');
    name.append(std::to_string(line.line));
  }
  return name;
}

uint32_t CallTree::child(uint32_t parent, uint32_t frame, bool create) {
  Index& ix = *index_;
  const uint64_t key = (uint64_t{parent} << 32) | frame;
  size_t s = ix.slot(key);
  if (ix.keys[s] == key) return ix.values[s];
  if (!create) return TreeNode::kNone;
  if ((ix.used + 1) * 2 > ix.keys.size()) {
    ix.grow();
    s = ix.slot(key);
  }
  const auto id = static_cast<uint32_t>(nodes_.size());
  TreeNode& n = nodes_.emplace_back();
  n.frame = frame;
  n.parent = parent;
  n.depth = nodes_[parent].depth + 1;
  max_depth_ = std::max(max_depth_, n.depth);
  n.next_sibling = nodes_[parent].first_child;
  nodes_[parent].first_child = id;
  ix.keys[s] = key;
  ix.values[s] = id;
  ++ix.used;
  return id;
}

std::vector<std::vector<uint32_t>> CallTree::location_frames(const Profile& p) {
  std::vector<std::vector<uint32_t>> out(p.locations.size());
  std::string key;
  for (size_t i = 0; i < p.locations.size(); ++i) {
    const Location& loc = p.locations[i];
    const std::string_view mapping_file =
        loc.mapping >= 0 && static_cast<size_t>(loc.mapping) < p.mappings.size() ? p.mappings[loc.mapping].filename
                                                                                   : std::string_view();
    auto intern = [&](std::string name, FrameKind kind, bool inlined) {
      key = name;
      if (inlined) key.push_back('\x01');
      auto [it, inserted] = index_->frames.emplace(key, static_cast<uint32_t>(frames_.size()));
      if (inserted) frames_.push_back(TreeFrame{std::move(name), kind, inlined});
      out[i].push_back(it->second);
    };
    if (loc.lines.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(loc.address));
      intern(buf, mapping_file.substr(0, 7) == "[kernel" ? FrameKind::kKernel : FrameKind::kUnknown, false);
      continue;
    }
    // Lines are innermost first and the last one is the physical frame: root-first is the reverse.
    for (size_t j = loc.lines.size(); j-- > 0;) {
      const Line& line = loc.lines[j];
      const Function* f = line.function < p.functions.size() ? &p.functions[line.function] : nullptr;
      const FrameKind kind = classify_frame(f ? std::string_view(f->name) : std::string_view(),
                                            f ? std::string_view(f->filename) : std::string_view(), mapping_file);
      intern(frame_name(p, line, options_.lines), kind, j + 1 != loc.lines.size());
    }
  }
  return out;
}

CallTree CallTree::build(const Profile& profile, const TreeOptions& options) {
  CallTree t;
  t.options_ = options;
  const int vi = resolve_value_index(profile, options.value_index);
  if (static_cast<size_t>(vi) < profile.sample_types.size()) t.value_type_ = profile.sample_types[vi];
  t.frames_.push_back(TreeFrame{"all", FrameKind::kUnknown, false});
  t.index_->frames.emplace("all\x02", 0);
  t.nodes_.emplace_back();
  const auto loc_frames = t.location_frames(profile);
  for (const Sample& s : profile.samples) {
    if (static_cast<size_t>(vi) >= s.values.size()) continue;
    const int64_t v = s.values[vi];
    if (v == 0) continue;
    uint32_t node = 0;
    t.nodes_[0].total += v;
    auto visit = [&](uint32_t frame) {
      node = t.child(node, frame, true);
      t.nodes_[node].total += v;
    };
    if (!options.reverse) {
      for (size_t i = s.locations.size(); i-- > 0;) {
        for (uint32_t f : loc_frames[s.locations[i]]) visit(f);
      }
    } else {
      for (uint32_t loc : s.locations) {
        const auto& fs = loc_frames[loc];
        for (size_t j = fs.size(); j-- > 0;) visit(fs[j]);
      }
    }
    t.nodes_[node].self += v;
  }
  return t;
}

void CallTree::add_base(const Profile& base) {
  base_total_.assign(nodes_.size(), 0);
  base_self_.assign(nodes_.size(), 0);
  const int vi = resolve_value_index(base, options_.value_index);
  // Frames the base has but this tree lacks get ids too; no node refers to them, so walks stop there.
  const auto loc_frames = location_frames(base);
  for (const Sample& s : base.samples) {
    if (static_cast<size_t>(vi) >= s.values.size()) continue;
    const int64_t v = s.values[vi];
    uint32_t node = 0;
    base_total_[0] += v;
    bool inside = true;
    auto visit = [&](uint32_t frame) {
      if (!inside) return;
      const uint32_t c = child(node, frame, false);
      if (c == TreeNode::kNone) {
        inside = false;
        return;
      }
      node = c;
      base_total_[node] += v;
    };
    if (!options_.reverse) {
      for (size_t i = s.locations.size(); i-- > 0;) {
        for (uint32_t f : loc_frames[s.locations[i]]) visit(f);
      }
    } else {
      for (uint32_t loc : s.locations) {
        const auto& fs = loc_frames[loc];
        for (size_t j = fs.size(); j-- > 0;) visit(fs[j]);
      }
    }
    if (inside) base_self_[node] += v;
  }
}

void CallTree::sort_children() {
  std::vector<uint32_t> kids;
  for (auto& n : nodes_) {
    if (n.first_child == TreeNode::kNone) continue;
    kids.clear();
    for (uint32_t c = n.first_child; c != TreeNode::kNone; c = nodes_[c].next_sibling) kids.push_back(c);
    std::sort(kids.begin(), kids.end(), [&](uint32_t a, uint32_t b) {
      const TreeFrame& fa = frames_[nodes_[a].frame];
      const TreeFrame& fb = frames_[nodes_[b].frame];
      if (fa.name != fb.name) return fa.name < fb.name;
      return fa.inlined < fb.inlined;
    });
    n.first_child = kids[0];
    for (size_t i = 0; i + 1 < kids.size(); ++i) nodes_[kids[i]].next_sibling = kids[i + 1];
    nodes_[kids.back()].next_sibling = TreeNode::kNone;
  }
}

}  // namespace goperf::flamegraph

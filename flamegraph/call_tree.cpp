// CallTree: samples are merged along their root-first frame paths; (parent, frame) -> child lookups go
// through one open-addressing table, the hot path when rendering profiles with many distinct stacks.
#include "flamegraph/call_tree.h"

#include "flamegraph/folded_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
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

namespace {

// Compares name + ";" bytewise, then the inlined flag.
bool frame_less(const TreeFrame& a, const TreeFrame& b) {
  const size_t n = std::min(a.name.size(), b.name.size());
  const int c = std::memcmp(a.name.data(), b.name.data(), n);
  if (c != 0) return c < 0;
  if (a.name.size() != b.name.size()) {
    const auto ca = static_cast<unsigned char>(a.name.size() > n ? a.name[n] : ';');
    const auto cb = static_cast<unsigned char>(b.name.size() > n ? b.name[n] : ';');
    if (ca != cb) return ca < cb;
    return a.name.size() < b.name.size();
  }
  return a.inlined < b.inlined;
}

}  // namespace

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

uint32_t CallTree::child(uint32_t parent, uint32_t frame) const {
  const Index& ix = *index_;
  const uint64_t key = (uint64_t{parent} << 32) | frame;
  const size_t s = ix.slot(key);
  return ix.keys[s] == key ? ix.values[s] : TreeNode::kNone;
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

// Builds the tree as a trie of the samples' frame sequences sorted in frame-name order: each sample shares
// its prefix with the one before it, so no lookup table is needed and children come out in name order.
CallTree CallTree::build(const Profile& profile, const TreeOptions& options) {
  CallTree t;
  t.options_ = options;
  const int vi = resolve_value_index(profile, options.value_index);
  if (static_cast<size_t>(vi) < profile.sample_types.size()) t.value_type_ = profile.sample_types[vi];
  t.frames_.push_back(TreeFrame{"all", FrameKind::kUnknown, false});
  t.index_->frames.emplace("all\x02", 0);
  t.nodes_.emplace_back();
  auto loc_frames = t.location_frames(profile);

  std::vector<uint32_t> data;
  std::vector<Seq> seqs;
  seqs.reserve(profile.samples.size());
  size_t frame_count = 0;
  for (const Sample& s : profile.samples) frame_count += s.locations.size();
  data.reserve(frame_count + frame_count / 8);
  for (const Sample& s : profile.samples) {
    if (static_cast<size_t>(vi) >= s.values.size() || s.values[vi] == 0) continue;
    const auto begin = static_cast<uint32_t>(data.size());
    if (!options.reverse) {
      for (size_t i = s.locations.size(); i-- > 0;) {
        const auto& fs = loc_frames[s.locations[i]];
        data.insert(data.end(), fs.begin(), fs.end());
      }
    } else {
      for (uint32_t loc : s.locations) {
        const auto& fs = loc_frames[loc];
        data.insert(data.end(), fs.rbegin(), fs.rend());
      }
    }
    seqs.push_back({begin, static_cast<uint32_t>(data.size()), s.values[vi]});
  }
  t.build_trie(data, seqs);
  return t;
}

void CallTree::build_trie(std::vector<uint32_t>& data, std::vector<Seq>& seqs) {
  CallTree& t = *this;
  // Rank frames by name + ";" bytewise (then inlined): sequences then sort as their folded lines nearly
  // do under a byte sort, so sorting a collapsed file's stacks is cheap, and siblings come out in
  // flamegraph.pl's order.
  std::vector<uint32_t> by_name(t.frames_.size());
  for (uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::sort(by_name.begin() + 1, by_name.end(), [&](uint32_t a, uint32_t b) {
    return frame_less(t.frames_[a], t.frames_[b]);
  });
  std::vector<uint32_t> rank(by_name.size());
  for (uint32_t r = 0; r < by_name.size(); ++r) rank[by_name[r]] = r;
  for (uint32_t& f : data) f = rank[f];
  auto seq_less = [&](const Seq& a, const Seq& b) {
    const uint32_t* x = data.data() + a.begin;
    const uint32_t* y = data.data() + b.begin;
    return std::lexicographical_compare(x, x + (a.end - a.begin), y, y + (b.end - b.begin));
  };
  // Folded files from stackcollapse-*.pl are already sorted; checking is cheaper than sorting again.
  if (!std::is_sorted(seqs.begin(), seqs.end(), seq_less)) std::sort(seqs.begin(), seqs.end(), seq_less);
  t.nodes_.reserve(std::min<size_t>(data.size() + 1, size_t{1} << 26));

  // Children are appended in order, so keep each node's last child while building.
  std::vector<uint32_t> last_child(1, TreeNode::kNone);
  std::vector<uint32_t> path{0};  // node ids along the previous sample's stack; path[d] is at depth d
  const Seq* prev = nullptr;
  for (const Seq& q : seqs) {
    const uint32_t n = q.end - q.begin;
    uint32_t common = 0;
    if (prev) {
      const uint32_t pn = prev->end - prev->begin;
      while (common < n && common < pn && data[q.begin + common] == data[prev->begin + common]) ++common;
    }
    path.resize(common + 1);
    for (uint32_t d = common; d < n; ++d) {
      const uint32_t parent = path.back();
      const auto id = static_cast<uint32_t>(t.nodes_.size());
      TreeNode& node = t.nodes_.emplace_back();
      node.frame = by_name[data[q.begin + d]];
      node.parent = parent;
      if (last_child[parent] == TreeNode::kNone) {
        t.nodes_[parent].first_child = id;
      } else {
        t.nodes_[last_child[parent]].next_sibling = id;
      }
      last_child[parent] = id;
      last_child.push_back(TreeNode::kNone);
      path.push_back(id);
    }
    t.max_depth_ = std::max(t.max_depth_, n);
    t.nodes_[path.back()].self += q.value;
    prev = &q;
  }
  // A node's id is larger than its parent's: one backward pass turns self values into totals.
  for (size_t i = t.nodes_.size(); i-- > 0;) {
    TreeNode& node = t.nodes_[i];
    node.total += node.self;
    if (i > 0) t.nodes_[node.parent].total += node.total;
  }
  t.sorted_ = true;
}

void CallTree::add_base(const Profile& base) {
  // The (parent, frame) -> child table, filled once for the walks below.
  if (index_->used == 0) {
    for (uint32_t i = 1; i < nodes_.size(); ++i) {
      Index& ix = *index_;
      if ((ix.used + 1) * 2 > ix.keys.size()) ix.grow();
      const uint64_t key = (uint64_t{nodes_[i].parent} << 32) | nodes_[i].frame;
      const size_t slot = ix.slot(key);
      ix.keys[slot] = key;
      ix.values[slot] = i;
      ++ix.used;
    }
  }
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
      const uint32_t c = child(node, frame);
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
  if (sorted_) return;
  std::vector<uint32_t> kids;
  for (auto& n : nodes_) {
    if (n.first_child == TreeNode::kNone) continue;
    kids.clear();
    for (uint32_t c = n.first_child; c != TreeNode::kNone; c = nodes_[c].next_sibling) kids.push_back(c);
    std::sort(kids.begin(), kids.end(), [&](uint32_t a, uint32_t b) {
      return frame_less(frames_[nodes_[a].frame], frames_[nodes_[b].frame]);
    });
    n.first_child = kids[0];
    for (size_t i = 0; i + 1 < kids.size(); ++i) nodes_[kids[i]].next_sibling = kids[i + 1];
    nodes_[kids.back()].next_sibling = TreeNode::kNone;
  }
  sorted_ = true;
}

// from_folded: folded text -> frame sequences -> trie, skipping the Profile (and its per-sample allocations)
// that folded -> SVG does not need. Frames mean exactly what FoldedReader makes of them.
Result<CallTree> CallTree::from_folded(std::string_view text, const TreeOptions& options) {
  if (text.empty()) return make_error(ErrorCode::kFormat, "empty file");
  CallTree t;
  t.options_ = options;
  t.value_type_ = ValueType{"samples", "count"};
  t.frames_.push_back(TreeFrame{"all", FrameKind::kUnknown, false});
  t.index_->frames.emplace("all\x02", 0);
  t.nodes_.emplace_back();

  // Frames are interned by their raw text; an "_[i]" frame after another is that frame inlined.
  folded::FrameInterner plain, inlined;
  auto add_frame = [&](std::string_view name, bool inl) {
    auto id = static_cast<uint32_t>(t.frames_.size());
    TreeFrame f{std::string(name), classify_frame(name), inl};
    std::string key = f.name;
    if (inl) key.push_back('\x01');
    auto [it, inserted] = t.index_->frames.emplace(std::move(key), id);
    if (!inserted) return it->second;
    t.frames_.push_back(std::move(f));
    return id;
  };

  std::vector<uint32_t> data;
  std::vector<Seq> seqs;
  const auto newlines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  seqs.reserve(newlines + 1);
  data.reserve(text.size() / 12);
  std::vector<uint32_t> cur;     // this line's frame ids, root first
  std::vector<size_t> ends;      // where each of them ends in the line
  auto lines = folded::for_each_line(text, [&](std::string_view frames, int64_t count, size_t common) {
    // Frames whose terminating ';' lies in the prefix shared with the previous line are the same frames.
    size_t keep = 0;
    while (keep < ends.size() && ends[keep] < common) ++keep;
    cur.resize(keep);
    ends.resize(keep);
    size_t start = keep ? ends[keep - 1] + 1 : 0;
    for (;;) {
      const size_t semi = frames.find(';', start);
      const size_t end = semi == std::string_view::npos ? frames.size() : semi;
      const std::string_view name = frames.substr(start, end - start);
      if (!cur.empty() && folded::is_inlined_mark(name)) {
        cur.push_back(inlined.find_or_add(name, [&](std::string_view n) {
          return add_frame(n.substr(0, n.size() - 4), true);
        }));
      } else {
        cur.push_back(plain.find_or_add(name, [&](std::string_view n) { return add_frame(n, false); }));
      }
      ends.push_back(end);
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    if (count == 0) return;
    const auto begin = static_cast<uint32_t>(data.size());
    if (!options.reverse) {
      data.insert(data.end(), cur.begin(), cur.end());
    } else {
      data.insert(data.end(), cur.rbegin(), cur.rend());
    }
    seqs.push_back({begin, static_cast<uint32_t>(data.size()), count});
  });
  if (!lines) return std::move(lines).error();
  if (*lines == 0) return make_error(ErrorCode::kFormat, "no stacks in the input");
  t.build_trie(data, seqs);
  return t;
}

}  // namespace goperf::flamegraph

// CallTree: a Profile merged into one tree of frames (root "all" -> callers -> callees), the shape every
// flame graph, folded and text output is drawn from. Frames are functions, or function:line with `lines`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flamegraph/frame_kind.h"
#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

struct TreeOptions {
  int value_index = -1;  // which sample value; -1: the profile's default (pprof's rule: the last one)
  bool lines = false;    // one frame per function:line instead of per function
  bool reverse = false;  // leaf first: callees at the root, as flamegraph.pl --reverse
};

// A distinct frame (name + inlined flag); nodes point to one.
struct TreeFrame {
  std::string name;
  FrameKind kind = FrameKind::kUnknown;
  bool inlined = false;
};

struct TreeNode {
  static constexpr uint32_t kNone = 0xffffffffu;
  uint32_t frame = 0;  // index into CallTree::frames(); node 0 (the root) has frame 0, "all"
  uint32_t parent = kNone;
  uint32_t first_child = kNone;
  uint32_t next_sibling = kNone;
  int64_t total = 0;   // this frame and its callees
  int64_t self = 0;    // samples whose stack ends here
};

class CallTree {
 public:
  static CallTree build(const Profile& profile, const TreeOptions& options);
  // The same tree straight from folded text, without building a Profile first: the fast path for
  // folded -> SVG (`options.lines` does not apply). Errors as parse_folded's.
  static Result<CallTree> from_folded(std::string_view text, const TreeOptions& options);
  CallTree(CallTree&&) noexcept;
  CallTree& operator=(CallTree&&) noexcept;
  ~CallTree();

  // Diff mode: walks `base`'s stacks along this tree and records how much of each node `base` had
  // (stacks absent from this tree are not drawn: widths come from this profile).
  void add_base(const Profile& base);
  bool has_base() const { return !base_total_.empty(); }
  int64_t base_total(uint32_t node) const { return base_total_[node]; }
  int64_t base_self(uint32_t node) const { return base_self_[node]; }

  // Orders each node's children by frame name (flamegraph.pl's order), so layouts are deterministic.
  void sort_children();

  const std::vector<TreeNode>& nodes() const { return nodes_; }
  const std::vector<TreeFrame>& frames() const { return frames_; }
  const TreeNode& root() const { return nodes_[0]; }
  int64_t total() const { return nodes_[0].total; }
  uint32_t max_depth() const { return max_depth_; }
  const ValueType& value_type() const { return value_type_; }

 private:
  struct Index;
  struct Seq {
    uint32_t begin, end;  // a stack's frame ids, root first, in the data vector
    int64_t value;
  };
  CallTree();
  // Builds nodes_ as the trie of the sequences (sorted here) once frames_ holds every frame.
  void build_trie(std::vector<uint32_t>& data, std::vector<Seq>& seqs);
  uint32_t child(uint32_t parent, uint32_t frame) const;  // kNone when absent (add_base's lookups)
  // Frames of each location (root-first order) for this profile's locations.
  std::vector<std::vector<uint32_t>> location_frames(const Profile& profile);

  TreeOptions options_;
  ValueType value_type_;
  std::vector<TreeFrame> frames_;
  std::vector<TreeNode> nodes_;
  std::vector<int64_t> base_total_, base_self_;
  uint32_t max_depth_ = 0;
  bool sorted_ = false;
  std::unique_ptr<Index> index_;
};

// The sample value index `options` select for `profile` (pprof's default_sample_type rule).
int resolve_value_index(const Profile& profile, int requested);

// The display name of one line of a location: the function name, or "name:line" when `lines`.
std::string frame_name(const Profile& profile, const Line& line, bool lines);

}  // namespace goperf::flamegraph

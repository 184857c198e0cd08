// FoldedWriter: "root;caller;leaf count" lines, what flamegraph.pl, inferno and speedscope read. Lines come
// in the order their stacks first appear in the profile, so folded -> folded reproduces its input.
#pragma once

#include "flamegraph/call_tree.h"
#include "flamegraph/profile_writer.h"

namespace goperf::flamegraph {

class FoldedWriter : public ProfileWriter {
 public:
  struct Options {
    TreeOptions tree;       // value (default: "samples" if present), function:line, reverse (leaf first)
    bool annotate = true;   // "_[i]" after inlined frames, "_[k]" after kernel frames (stackcollapse-perf.pl's)
  };
  FoldedWriter() = default;
  explicit FoldedWriter(Options options) : options_(options) {}
  Status write(const Profile& profile, std::string& out) const override;

 private:
  Options options_;
};

}  // namespace goperf::flamegraph

// ProfileFilter: keeps the samples `go tool pprof`'s -focus, -ignore and -tagfocus would keep.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "flamegraph/profile.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

struct FilterOptions {
  std::string focus;   // keep samples with a frame whose function matches (regex search, ECMAScript syntax)
  std::string ignore;  // then drop samples with a frame whose function matches
  // Keep samples whose label `key` matches: a number or range ("3", "3:5", "3:", ":5") matches numeric
  // labels by value (and a string label equal to the number), anything else is a regex on string labels
  // (pprof's -tagfocus). Every pair must match (pprof's rule across keys).
  std::vector<std::pair<std::string, std::string>> tagfocus;
  // Then drop samples whose label `key` matches (pprof's -tagignore).
  std::vector<std::pair<std::string, std::string>> tagignore;

  bool empty() const { return focus.empty() && ignore.empty() && tagfocus.empty() && tagignore.empty(); }
};

// kInvalidArgument for a regex that does not compile. Functions, locations and mappings are kept as they
// are (indexes stay valid); only samples go.
Result<Profile> filter_profile(Profile profile, const FilterOptions& options);

}  // namespace goperf::flamegraph

// ProfileWriter: the one interface every output format implements (folded, SVG, pprof, text/top).
#pragma once

#include <string>

#include "symbolize/result.h"

namespace goperf::flamegraph {

struct Profile;

class ProfileWriter {
 public:
  virtual ~ProfileWriter() = default;
  // Appends the rendering of `profile` to `out` (bytes: text formats are UTF-8, pprof is gzip).
  virtual Status write(const Profile& profile, std::string& out) const = 0;
};

}  // namespace goperf::flamegraph

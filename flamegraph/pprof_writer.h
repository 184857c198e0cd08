// PprofWriter: Profile -> gzip-compressed profile.proto, the file `go tool pprof`, Pyroscope, Parca and
// speedscope read. Ids start at 1 (0 means "none" in the format); string_table[0] is "".
#pragma once

#include <string>

#include "flamegraph/profile_writer.h"
#include "symbolize/result.h"

namespace goperf::flamegraph {

struct Profile;

// The serialized profile.proto message, not compressed.
std::string encode_pprof(const Profile& profile);

// Writes `profile` to `path` as a gzip-compressed pprof file ("-" is stdout).
Status write_pprof_file(const Profile& profile, const std::string& path);

class PprofWriter : public ProfileWriter {
 public:
  struct Options {
    bool compress = true;  // gzip, as runtime/pprof writes; false gives the bare message
  };
  PprofWriter() = default;
  explicit PprofWriter(Options options) : options_(options) {}
  Status write(const Profile& profile, std::string& out) const override;

 private:
  Options options_;
};

}  // namespace goperf::flamegraph

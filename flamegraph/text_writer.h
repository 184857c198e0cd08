// TextWriter: the top functions by flat (self) and cumulative value, laid out like `go tool pprof -top`.
#pragma once

#include "flamegraph/call_tree.h"
#include "flamegraph/profile_writer.h"

namespace goperf::flamegraph {

class TextWriter : public ProfileWriter {
 public:
  struct Options {
    TreeOptions tree;      // value and function:line (reverse does not apply)
    size_t max_rows = 0;   // 0: every function (pprof -top); `report --format top` asks for -n (10)
    bool cum = false;      // sorted by cumulative value (pprof -top -cum), else by flat
    bool header = false;   // pprof's header first: File, Type, Time, Duration and total
  };
  TextWriter() = default;
  explicit TextWriter(Options options) : options_(options) {}
  Status write(const Profile& profile, std::string& out) const override;

 private:
  Options options_;
};

// A value with its unit as pprof prints it: "1.50s", "20ms", "3.20MB", "42".
std::string format_value(int64_t value, const std::string& unit);

}  // namespace goperf::flamegraph

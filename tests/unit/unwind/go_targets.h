// Builds Go targets of tests/targets/ for the unwind unit tests through tests/integration/gotargets.py
// (the shared builder and cache), for every toolchain present and the requested variants.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace goperf::unwind::testing {

struct BuiltTarget {
  std::string toolchain;  // "go1.19", "go1.26", "go1.27.3"
  std::string variant;    // "exe-nocgo-stripped", ...
  std::string path;
  bool pie = false, cgo = false, stripped = false;
};

// variants: tuples of (pie, cgo, stripped), built for goarch (GOARCH). Returns one BuiltTarget per toolchain x variant, empty
// (with `error` set) when the builder fails.
inline std::vector<BuiltTarget> build_go_targets(const std::string& name,
                                                 const std::vector<std::tuple<bool, bool, bool>>& variants,
                                                 std::string* error, const std::string& goarch = "amd64") {
  std::ostringstream py;
  py << "import sys; sys.path.insert(0, '" << GOPERF_SOURCE_DIR << "/tests/integration'); import gotargets as t\n"
     << "vs = [";
  for (auto [pie, cgo, stripped] : variants)
    py << "t.Variant(pie=" << (pie ? "True" : "False") << ", cgo=" << (cgo ? "True" : "False")
       << ", stripped=" << (stripped ? "True" : "False") << ", goarch='" << goarch << "'),";
  py << "]\nreq = [('" << name << "', tc, v) for tc in t.toolchains() for v in vs]\n"
     << "for (n, tc, v), p in zip(req, t.build_many(req)):\n"
     << "    print(tc.name, v.name, int(v.pie), int(v.cgo), int(v.stripped), p)\n";
  // The same cache as the integration tests (scripts/test exports GOPERF_BUILD_DIR), so that the
  // Release and ASan unit test runs and pytest build each target once.
  const char* env_dir = getenv("GOPERF_BUILD_DIR");
  std::string dir = env_dir && *env_dir ? env_dir : GOPERF_BINARY_DIR;
  std::string cmd = "GOPERF_BUILD_DIR='" + dir + "' python3 - <<'PYEOF'\n" + py.str() + "PYEOF\n";
  FILE* f = popen(cmd.c_str(), "r");
  std::vector<BuiltTarget> out;
  if (!f) {
    if (error) *error = "popen failed";
    return out;
  }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    std::istringstream in(line);
    BuiltTarget t;
    int pie = 0, cgo = 0, stripped = 0;
    if (in >> t.toolchain >> t.variant >> pie >> cgo >> stripped >> t.path) {
      t.pie = pie, t.cgo = cgo, t.stripped = stripped;
      out.push_back(t);
    }
  }
  int rc = pclose(f);
  if (rc != 0) {
    if (error)
      *error = "building " + name + " with tests/integration/gotargets.py failed (exit " + std::to_string(rc) + ")";
    out.clear();
  }
  return out;
}

// stdout of a shell command ("" on failure).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

}  // namespace goperf::unwind::testing

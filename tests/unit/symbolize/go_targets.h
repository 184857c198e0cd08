// Go targets for the symbolize unit tests: every toolchain present builds tests/targets/<name> in the
// variants that matter (exe, PIE, external link with cgo; stripped and not). Tests skip with the
// reason when no toolchain is installed.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace goperf::symbolize::testing {

struct Toolchain {
  std::string name;  // "go1.19", "go1.26", "go1.27.3"
  std::string go;    // the go command
  std::string env;   // environment prefix for the shell ("GOTOOLCHAIN=local")
};

struct Variant {
  bool pie = false, cgo = false, stripped = true;
  std::string name() const {
    return std::string(pie ? "pie" : "exe") + (cgo ? "-cgo" : "-nocgo") + (stripped ? "-stripped" : "-syms");
  }
};

// Runs a shell command and returns its stdout ("" on failure), with its exit status in *status.
inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  if (status) *status = st;
  return out;
}

inline const std::vector<Toolchain>& toolchains() {
  static const std::vector<Toolchain> found = [] {
    // ctest runs every test in its own process: remember the answer for a while in the build tree.
    namespace fs = std::filesystem;
    fs::path memo = fs::path(GOPERF_BINARY_DIR) / "unit-targets" / "toolchains.txt";
    std::error_code ec;
    std::vector<std::string> names;
    if (fs::exists(memo, ec) && fs::file_time_type::clock::now() - fs::last_write_time(memo, ec) < std::chrono::hours(1)) {
      std::ifstream in(memo);
      std::string n;
      while (std::getline(in, n)) names.push_back(n);
    }
    std::vector<Toolchain> all = {{"go1.19", "/usr/lib/go-1.19/bin/go", "GOTOOLCHAIN=local"},
                                  {"go1.26", "go", "GOTOOLCHAIN=local"},
                                  {"go1.27.3", "go", "GOTOOLCHAIN=go1.27.3"}};
    if (!names.empty()) {
      std::vector<Toolchain> v;
      for (const auto& t : all)
        if (std::find(names.begin(), names.end(), t.name) != names.end()) v.push_back(t);
      return v;
    }
    std::vector<Toolchain> v;
    auto works = [](const std::string& env, const std::string& go, const std::string& want) {
      int st = -1;
      std::string out = run("env " + env + " timeout 300 " + go + " version 2>/dev/null", &st);
      return st == 0 && out.find(want) != std::string::npos;
    };
    if (works("GOTOOLCHAIN=local", "/usr/lib/go-1.19/bin/go", "go1.19"))
      v.push_back({"go1.19", "/usr/lib/go-1.19/bin/go", "GOTOOLCHAIN=local"});
    if (works("GOTOOLCHAIN=local", "go", "go1.26")) v.push_back({"go1.26", "go", "GOTOOLCHAIN=local"});
    if (works("GOTOOLCHAIN=go1.27.3", "go", "go1.27.3"))
      v.push_back({"go1.27.3", "go", "GOTOOLCHAIN=go1.27.3"});
    fs::create_directories(memo.parent_path(), ec);
    std::string tmp = memo.string() + "." + std::to_string(getpid());
    {
      std::ofstream out(tmp);
      for (const auto& t : v) out << t.name << "\n";
      out << "none\n";  // never empty, so that "no toolchain" is remembered too
    }
    fs::rename(tmp, memo, ec);
    return v;
  }();
  return found;
}

inline const Toolchain* find_toolchain(const std::string& name) {
  for (const auto& t : toolchains())
    if (t.name == name) return &t;
  return nullptr;
}

// Builds tests/targets/<target> (cached until its main.go changes); "" when the build failed.
inline std::string build_target(const std::string& target, const Toolchain& tc, const Variant& v) {
  namespace fs = std::filesystem;
  fs::path src = fs::path(GOPERF_SOURCE_DIR) / "tests" / "targets" / target;
  fs::path dir = fs::path(GOPERF_BINARY_DIR) / "unit-targets" / tc.name;
  fs::create_directories(dir);
  fs::path out = dir / (target + "-" + v.name());
  std::error_code ec;
  if (fs::exists(out, ec) && fs::last_write_time(out, ec) >= fs::last_write_time(src / "main.go", ec))
    return out.string();
  std::string ldflags;
  if (v.cgo) ldflags += "-linkmode=external ";
  if (v.stripped) ldflags += "-s -w";
  // Tests of one binary run in parallel processes: each builds into its own file, then renames.
  std::string tmp = out.string() + ".tmp" + std::to_string(getpid());
  std::string cmd = "cd '" + src.string() + "' && env " + tc.env + " CGO_ENABLED=" + (v.cgo ? "1" : "0") +
                    " " + tc.go + " build -o '" + tmp + "'" + (v.pie ? " -buildmode=pie" : "") +
                    " -ldflags='" + ldflags + "' . 2>&1 && mv '" + tmp + "' '" + out.string() + "'";
  int st = -1;
  std::string log = run(cmd, &st);
  if (st != 0) {
    std::fprintf(stderr, "go build failed: %s\n%s\n", cmd.c_str(), log.c_str());
    return "";
  }
  return out.string();
}

inline std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (bool pie : {false, true})
    for (bool cgo : {false, true})
      for (bool stripped : {true, false}) v.push_back({pie, cgo, stripped});
  return v;
}

}  // namespace goperf::symbolize::testing

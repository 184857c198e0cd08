// BuildInfo: what `go version -m` shows, decoded from the .go.buildinfo blob.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "symbolize/result.h"

namespace goperf::symbolize {

class ElfFile;

struct GoModule {
  std::string path, version, sum;
  std::optional<std::pair<std::string, std::string>> replace;  // (path, version) after "=>"
};

struct BuildInfo {
  std::string go_version;   // "go1.19.8", "go1.27.3", possibly with a suffix ("go1.22.0 X:...")
  std::string main_path;    // "path" line: the main package
  GoModule main;            // "mod" line
  std::vector<GoModule> deps;
  std::vector<std::pair<std::string, std::string>> settings;  // "build" lines, in order

  // 19 for go1.19.8, 27 for go1.27.3; 0 when the version does not parse. Selects runtime layouts.
  int minor_version() const;
  std::string setting(const std::string& key) const;  // "" when absent

  // From the .go.buildinfo section, or by scanning writable segments for the magic when it is gone.
  static Result<BuildInfo> read(const ElfFile& elf);
  // From the raw blob starting at the magic (fuzzing, cores).
  static Result<BuildInfo> parse(std::span<const uint8_t> blob);
};

}  // namespace goperf::symbolize

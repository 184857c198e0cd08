// What `goperf --version` prints. The Go release ranges come from the tables goperf actually has, so
// the text cannot claim a release whose runtime layout is missing.
#include "profiler/version.h"

#include "unwind/go_runtime_layout.h"

namespace goperf::profiler {
namespace {

// The oldest pclntab goperf parses: Go 1.18's (magic 0xfffffff0; symbolize/pclntab.h).
constexpr int kOldestPclntabGoMinor = 18;

// Live processes are read with ptrace, perf and eBPF on this host: only this build's architecture.
// Binaries and cores of either architecture are read anywhere (symbolize/, unwind/core_file.h).
#if defined(__x86_64__)
constexpr const char* kHostArch = "amd64";
#elif defined(__aarch64__)
constexpr const char* kHostArch = "arm64";
#else
#error "goperf reads live processes on amd64 and arm64 only"
#endif

}  // namespace

std::string version_text(const BuildStamp& stamp) {
  auto layouts = unwind::known_layouts();
  std::string first = "1." + std::to_string(layouts.front().go_minor);
  std::string last = "1." + std::to_string(layouts.back().go_minor);
  std::string text;
  text += "goperf " + std::string(stamp.version) + "\n";
  text += "commit         " + std::string(stamp.commit) + "\n";
  text += "built          " + std::string(stamp.date) + "\n";
  text += "binaries       Go 1." + std::to_string(kOldestPclntabGoMinor) + "-" + last +
          " (pclntab: info, addr2line, symbols of record and report)\n";
  text += "runtimes       Go " + first + "-" + last + " (goroutines and stacks: record, snapshot, core)\n";
  // arm64: info and addr2line read its binaries; its cores and live processes are not read yet.
  text += "architectures  amd64, arm64 (binaries: info, addr2line); cores and live processes: " +
          std::string(kHostArch) + "\n";
  return text;
}

}  // namespace goperf::profiler

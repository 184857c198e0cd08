// goperf's entry point: picks the sub-command (`goperf help CMD` is `goperf CMD --help`), prints the usage
// and the version, and holds the only try/catch of the program.
#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "profiler/build_stamp.h"
#include "profiler/commands.h"
#include "profiler/version.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const goperf::profiler::Args&);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"record", goperf::profiler::run_record, "sample a running Go program's CPU use into a pprof profile"},
    {"report", goperf::profiler::run_report, "render a profile as an SVG flame graph, folded stacks, pprof or text"},
    {"snapshot", goperf::profiler::run_snapshot, "print every goroutine of a live process, as SIGQUIT would, without killing it"},
    {"core", goperf::profiler::run_core, "print every goroutine of a core file of a Go program"},
    {"addr2line", goperf::profiler::run_addr2line, "binutils-compatible address to function/file:line, with inlined frames"},
    {"info", goperf::profiler::run_info, "Go version, modules, build settings and pclntab facts of a binary or process"},
    {"doctor", goperf::profiler::run_doctor, "check whether this host and user can sample, attach and keep cores"},
};

void print_usage(FILE* out) {
  std::fprintf(out, "usage: goperf <command> [options]   (goperf help <command> for its options)\n"
                    "       goperf --version\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

const Command* find_command(const std::string& name) {
  for (const auto& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
}

int unknown_command(const std::string& name) {
  std::fprintf(stderr, "goperf: unknown command '%s' (goperf help lists them)\n", name.c_str());
  return 1;
}

int run_command(const Command& c, const goperf::profiler::Args& args) {
  try {
    return c.run(args);
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "goperf %s: %s (see goperf %s --help)\n", c.name, e.what(), c.name);
    return 1;  // bad input, like any other: one line, status 1

  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "goperf %s: out of memory\n", c.name);
    return 1;
  }
}

// `goperf help` (and `goperf help help`) is the usage; `goperf help CMD` is exactly `goperf CMD --help`.
int run_help(int argc, char** argv) {
  if (argc == 2 || (argc == 3 && std::string(argv[2]) == "help")) {
    print_usage(stdout);
    return 0;
  }
  if (argc > 3) {
    std::fprintf(stderr, "goperf help: takes one command name (goperf help lists them)\n");
    return 1;
  }
  const Command* c = find_command(argv[2]);
  if (c == nullptr) return unknown_command(argv[2]);
  return run_command(*c, {"--help"});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 1;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h") {
    print_usage(stdout);
    return 0;
  }
  if (name == "help") return run_help(argc, argv);
  if (name == "--version") {
    std::fputs(goperf::profiler::version_text(goperf::profiler::kBuildStamp).c_str(), stdout);
    return 0;
  }
  const Command* c = find_command(name);
  if (c == nullptr) return unknown_command(name);
  return run_command(*c, goperf::profiler::Args(argv + 2, argv + argc));
}

// goperf info: what a Go binary (or a live process's executable) says about itself.

#include <cstdio>
#include <string>

#include "profiler/commands.h"
#include "profiler/info_options.h"
#include "profiler/info_printer.h"
#include "profiler/info_report.h"
#include "symbolize/module.h"
#include "unwind/process_status.h"

namespace goperf::profiler {

int run_info(const Args& args) {
  InfoOptions o;
  if (!parse_info_options(args, o)) return 0;
  if (o.pid > 0) {
    // /proc/PID/exe opens the executable even when it was deleted or replaced since the start.
    if (auto usable = unwind::check_target_process(o.pid); !usable) {
      std::fprintf(stderr, "goperf info: %s\n", usable.error().message().c_str());
      return 1;
    }
  }
  auto module = symbolize::Module::open(o.binary);
  if (!module.ok()) {
    std::fprintf(stderr, "goperf info: %s\n", module.error().message().c_str());
    return 1;
  }
  auto report = collect_info(**module, o.binary);
  if (!report.ok()) {
    std::fprintf(stderr, "goperf info: %s\n", report.error().message().c_str());
    return 1;
  }
  std::string text = o.json ? format_info_json(*report) : format_info_text(*report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace goperf::profiler

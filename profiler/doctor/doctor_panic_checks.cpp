// Doctor: will a panic leave a core? The Go runtime dumps core on a panic or fatal error only with
// GOTRACEBACK=crash (src/runtime/runtime1.go setTraceback: only "crash" sets tracebackCrash on Linux; then
// runtime.crash raises SIGABRT with its default action). The runtime reads GOTRACEBACK once, at start, from
// the environment the process was started with: /proc/PID/environ. debug.SetTraceback can raise the level at
// run time but not lower it below the environment's (it ors in traceback_env), so "crash" there is final and
// anything else may still be raised by the program itself, which goperf cannot see from outside.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "profiler/doctor/doctor_checks.h"

namespace goperf::profiler {
namespace {

CheckResult result(std::string name, CheckState s, std::string detail, std::string fix = "") {
  return {"core", std::move(name), s, std::move(detail), std::move(fix)};
}

struct Traceback {
  bool readable = false;
  std::string error;                 // why /proc/PID/environ could not be read
  std::optional<std::string> value;  // unset: the variable is not in the environment
};

Traceback traceback_of(const DoctorContext& c) {
  Traceback t;
  if (c.pid == 0) {
    t.readable = true;
    if (const char* v = std::getenv("GOTRACEBACK")) t.value = v;
    return t;
  }
  const std::string path = c.proc_root + "/" + std::to_string(c.pid) + "/environ";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    t.error = path + ": " + std::strerror(errno);
    return t;
  }
  t.readable = true;
  std::string entry;
  while (std::getline(in, entry, '\0'))  // NUL-separated KEY=VALUE; the runtime takes the first match
    if (entry.rfind("GOTRACEBACK=", 0) == 0) {
      t.value = entry.substr(12);
      break;
    }
  return t;
}

const CheckResult* find(const std::vector<CheckResult>& rs, const std::string& area, const std::string& name) {
  for (const auto& r : rs)
    if (r.area == area && r.name == name) return &r;
  return nullptr;
}

}  // namespace

std::vector<CheckResult> check_panic_core(const DoctorContext& c, const std::vector<CheckResult>& so_far) {
  const CheckResult* exe = find(so_far, "target", "executable");
  if (exe != nullptr && exe->detail.find("not a Go program") != std::string::npos) return {};
  const std::string pid = std::to_string(c.pid);
  const std::string who = c.pid != 0 ? "process " + pid : std::string("programs started from this environment");
  std::vector<CheckResult> out;
  Traceback t = traceback_of(c);
  bool crash = t.value && *t.value == "crash";
  if (!t.readable) {
    out.push_back(result("GOTRACEBACK", CheckState::kWarn, "cannot read " + t.error + ": its GOTRACEBACK is unknown",
                         "run `sudo goperf doctor -p " + pid + "` to read it"));
  } else if (crash) {
    out.push_back(result("GOTRACEBACK", CheckState::kOk,
                         "GOTRACEBACK=crash: a panic or fatal error of " + who + " ends in SIGABRT, which dumps core"));
  } else {
    std::string now = t.value ? "GOTRACEBACK=" + *t.value : std::string("GOTRACEBACK is unset (single)");
    std::string detail = now + ": a panic of " + who + " prints its traceback and exits with status 2, leaving no core" +
                         " (unless the program calls debug.SetTraceback(\"crash\") itself, which goperf cannot see)";
    std::string fix = c.pid != 0 ? "restart process " + pid + " with GOTRACEBACK=crash in its environment "
                                   "(`GOTRACEBACK=crash PROGRAM`, or Environment=GOTRACEBACK=crash in its systemd unit)"
                                 : "`export GOTRACEBACK=crash` before starting the program "
                                   "(Environment=GOTRACEBACK=crash in a systemd unit)";
    // Without -p it is this shell's setting, not a process's: a warning.
    out.push_back(result("GOTRACEBACK", c.pid != 0 ? CheckState::kFail : CheckState::kWarn, detail, fix));
  }

  // The verdict, from the checks that decide it: the runtime must abort, and the kernel must write the core.
  std::vector<std::string> blocking, unknown;
  if (!t.readable) unknown.push_back("GOTRACEBACK");
  else if (!crash) blocking.push_back("GOTRACEBACK");
  for (const char* name : {"RLIMIT_CORE", "core_pattern", "coredump_filter"}) {
    const CheckResult* r = find(so_far, "core", name);
    if (r != nullptr && r->state == CheckState::kFail) blocking.push_back(name);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  // A verdict, not a change of its own: the FIX lines it names carry the changes, counted once.
  if (!blocking.empty()) {
    out.push_back(result("on panic", CheckState::kWarn, "a panic of " + who + " leaves no core: see " + join(blocking)));
  } else if (!unknown.empty()) {
    out.push_back(result("on panic", CheckState::kWarn, "unknown whether a panic of " + who + " leaves a core: " +
                                                            join(unknown) + " could not be read"));
  } else {
    out.push_back(result("on panic", CheckState::kOk, "a panic of " + who + " leaves a core (GOTRACEBACK=crash, and the "
                                                      "kernel's core settings above allow it)"));
  }
  return out;
}

}  // namespace goperf::profiler

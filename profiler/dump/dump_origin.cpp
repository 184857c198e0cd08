// A live process's start time: /proc/PID/stat field 22 (starttime, clock ticks after boot, proc(5)) plus
// the boot time (/proc/stat btime).
#include "profiler/dump/dump_origin.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace goperf::profiler {

namespace {

double boot_time() {
  std::ifstream in("/proc/stat");
  std::string word;
  while (in >> word)
    if (word == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
  return 0;
}

double start_ticks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::stod(field);
  return 0;
}

}  // namespace

DumpOrigin live_dump_origin(int pid) {
  DumpOrigin o;
  o.pid = pid;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  o.taken_at = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  const double ticks = start_ticks(pid), boot = boot_time();
  if (ticks > 0 && boot > 0) o.process_started_at = boot + ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  return o;
}

DumpOrigin core_dump_origin(const std::string& core_path, int64_t pid) {
  DumpOrigin o;
  o.pid = pid;
  struct stat st;
  if (::stat(core_path.c_str(), &st) == 0)
    o.taken_at = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
  return o;
}

std::string dump_origin_json_field(const DumpOrigin& o) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "\"origin\":{\"pid\":%lld,\"taken_at\":%.6f,\"process_started_at\":%.2f},",
                static_cast<long long>(o.pid), o.taken_at, o.process_started_at);
  return buf;
}

bool same_process(const DumpOrigin& a, const DumpOrigin& b) {
  return a.pid != 0 && a.pid == b.pid && a.process_started_at != 0 &&
         a.process_started_at - b.process_started_at < 0.005 && b.process_started_at - a.process_started_at < 0.005;
}

}  // namespace goperf::profiler

#include "unwind/process_threads.h"

#include <dirent.h>

#include <cstdlib>
#include <set>
#include <string>

namespace goperf::unwind {

std::vector<pid_t> process_threads(pid_t pid) {
  std::vector<pid_t> tids;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return tids;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    tids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  closedir(d);
  return tids;
}

Status attach_threads(pid_t pid, const std::function<Status(pid_t)>& attach) {
  std::set<pid_t> seen;
  size_t attached = 0;
  for (int round = 0; round < 20; ++round) {
    bool added = false;
    for (pid_t tid : process_threads(pid)) {
      if (!seen.insert(tid).second) continue;
      added = true;
      auto st = attach(tid);
      if (st) {
        ++attached;
      } else if (st.error().code() != ErrorCode::kNotFound) {
        return st;
      }
    }
    if (!added) break;
  }
  if (attached == 0) return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid) + " not found");
  return {};
}

}  // namespace goperf::unwind

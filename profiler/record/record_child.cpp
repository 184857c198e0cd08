// fork + two pipes: one to release the child, one (close-on-exec) to learn whether exec worked.
#include "profiler/record/record_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace goperf::profiler {

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(ErrorCode::kInvalidArgument, "no command to run");
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t parent = getpid();
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return make_error(ErrorCode::kIo, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // SIGTERM when goperf dies, whatever kills it (SIGKILL included); it survives the exec. A goperf that
    // died before the prctl took effect left this child reparented already: end it here.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    close(go[1]);
    close(err[0]);
    char byte;
    ssize_t n;
    while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(127);  // abandoned: goperf could not start recording, so the command does not run
    execvp(cargv[0], cargv.data());
    int e = errno;
    (void)!write(err[1], &e, sizeof(e));
    _exit(127);
  }
  close(go[0]);
  close(err[1]);
  ChildProcess child;
  child.pid_ = pid;
  child.go_fd_ = go[1];
  child.err_fd_ = err[0];
  return child;
}

Status ChildProcess::release() {
  char byte = 1;
  (void)!write(go_fd_, &byte, 1);
  close(go_fd_);
  go_fd_ = -1;
  int e = 0;
  ssize_t n;
  while ((n = read(err_fd_, &e, sizeof(e))) < 0 && errno == EINTR) {
  }
  close(err_fd_);
  err_fd_ = -1;
  if (n == static_cast<ssize_t>(sizeof(e))) {
    wait(1000);
    return make_error(e == ENOENT ? ErrorCode::kNotFound : ErrorCode::kPermission,
                      std::string("cannot run the command: ") + std::strerror(e));
  }
  return {};
}

bool ChildProcess::exited() {
  if (exited_) return true;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
  }
  return exited_;
}

void ChildProcess::abandon() {
  if (go_fd_ >= 0) close(go_fd_);
  if (err_fd_ >= 0) close(err_fd_);
  go_fd_ = err_fd_ = -1;
  wait(2000);
}

void ChildProcess::terminate() {
  if (!exited()) kill(pid_, SIGTERM);
}

bool ChildProcess::wait(int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (exited()) return true;
    timespec ts{0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return exited();
}

}  // namespace goperf::profiler

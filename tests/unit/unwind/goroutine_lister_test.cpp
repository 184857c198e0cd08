// GoroutineLister over live processes: tests/targets/layout_parked (100 goroutines parked on a
// channel, select, sleep and a mutex) built by every toolchain as exe, PIE, cgo and cgo PIE (external link),
// all stripped. The oracle is the runtime's own SIGQUIT dump (GOTRACEBACK=all) of the same process:
// every goroutine it prints must be listed with the same id and status text; goroutines it hides must
// be system goroutines. Threads are inspected with PTRACE_SEIZE + PTRACE_INTERRUPT and detached at
// once (a seized thread resumes by itself if this test dies), so nothing is left stopped.
#include "unwind/goroutine_lister.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <elf.h>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "tests/unit/unwind/go_targets.h"
#include "unwind/process_memory.h"
#include "unwind/runtime_globals.h"

extern char** environ;

namespace goperf::unwind {
namespace {

using testing::BuiltTarget;

// A running target: stdout read until "ready", stderr kept for the SIGQUIT dump. Killed on destruction.
class Target {
 public:
  explicit Target(const std::string& path) : Target(std::vector<std::string>{path, "25"}) {}
  explicit Target(std::vector<std::string> args) {
    int out[2], err[2];
    if (pipe(out) || pipe(err)) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    std::vector<std::string> env{"GOTRACEBACK=all", "GOMAXPROCS=2", "PATH=/usr/bin:/bin"};
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Target() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }
  pid_t pid() const { return pid_; }

  bool wait_ready() {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got.find("ready\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) return false;
      got.append(buf, static_cast<size_t>(n));
    }
    return got.find("ready\n") != std::string::npos;
  }

  // SIGQUIT, then everything the runtime printed on stderr until it exited.
  std::string sigquit_dump() {
    kill(pid_, SIGQUIT);
    std::string dump;
    char buf[65536];
    ssize_t n;
    while ((n = read(err_, buf, sizeof buf)) > 0) dump.append(buf, static_cast<size_t>(n));
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return dump;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
};

// Load bias of the executable: start of its offset-0 mapping minus the first PT_LOAD's page.
uint64_t load_bias(pid_t pid, const std::string& path, const symbolize::ElfFile& elf) {
  char real[4096];
  if (!realpath(path.c_str(), real)) return 0;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < strlen(real) || line.compare(line.size() - strlen(real), std::string::npos, real) != 0) continue;
    std::istringstream in(line);
    std::string range, perms, offset;
    in >> range >> perms >> offset;
    if (std::stoull(offset, nullptr, 16) != 0) continue;
    uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    for (const auto& s : elf.segments())
      if (s.type == PT_LOAD) return start - (s.vaddr & ~uint64_t{0xfff});
  }
  return 0;
}

std::vector<pid_t> threads(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.push_back(static_cast<pid_t>(std::stol(e->d_name)));
  closedir(d);
  return out;
}

// Registers of one thread: seize, interrupt, read, detach.
std::optional<RegisterSet> thread_registers(pid_t tid) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return std::nullopt;
  std::optional<RegisterSet> out;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
    int status = 0;
    if (waitpid(tid, &status, __WALL) == tid) {
      user_regs_struct r{};
      if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) == 0) {
        RegisterSet regs;
        regs.pc = r.rip, regs.sp = r.rsp, regs.fp = r.rbp, regs.g = r.r14, regs.tls_base = r.fs_base;
        out = regs;
      }
    }
  }
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  return out;
}

struct DumpedGoroutine {
  std::string status;      // bracket text up to the first ", " ("chan receive", "sleep", ...)
  std::string bottom;      // the last function printed above goexit (the goroutine's start)
  std::string creator;     // "created by <creator>"
  uint64_t parent = 0;     // "in goroutine <parent>" (Go 1.21+)
};

std::map<uint64_t, DumpedGoroutine> parse_dump(const std::string& dump) {
  std::map<uint64_t, DumpedGoroutine> out;
  static const std::regex header(R"(^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:$)");
  static const std::regex created(R"(^created by (\S+)(?: in goroutine (\d+))?$)");
  std::istringstream in(dump);
  std::string line;
  DumpedGoroutine* cur = nullptr;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      std::string status = m[2];
      cur = &out[std::stoull(m[1])];
      cur->status = status.substr(0, status.find(", "));
    } else if (cur && std::regex_match(line, m, created)) {
      cur->creator = m[1];
      if (m[2].matched) cur->parent = std::stoull(m[2]);
    } else if (cur && cur->creator.empty() && !line.empty() && line[0] != '\t' && line.find('(') != std::string::npos &&
               !line.starts_with("runtime.goexit(")) {  // SIGQUIT dumps at level 2: goexit is shown
      cur->bottom = line.substr(0, line.find('('));
    } else if (line.empty()) {
      cur = nullptr;
    }
  }
  return out;
}

const std::vector<BuiltTarget>& targets() {
  static std::vector<BuiltTarget> built = [] {
    std::string error;
    auto t = testing::build_go_targets(
        "layout_parked", {{false, false, true}, {true, false, true}, {false, true, true}, {true, true, true}},
        &error);
    if (t.empty()) ADD_FAILURE() << error;
    return t;
  }();
  return built;
}

TEST(GoroutineLister, LiveProcessMatchesSigquitDump) {
  ASSERT_GE(targets().size(), 3u);
  for (const auto& t : targets()) {
    SCOPED_TRACE(t.toolchain + " " + t.variant);
    auto module = symbolize::Module::open(t.path);
    ASSERT_TRUE(module) << module.error().message();
    const auto& mod = **module;
    auto globals = find_runtime_globals(mod);
    ASSERT_TRUE(globals) << globals.error().message();
    ASSERT_NE(mod.build_info(), nullptr);
    LayoutChoice layout = layout_for_go_minor(mod.build_info()->minor_version());
    ASSERT_TRUE(layout.exact_version);

    Target target(t.path);
    ASSERT_GT(target.pid(), 0);
    ASSERT_TRUE(target.wait_ready());
    uint64_t bias = load_bias(target.pid(), t.path, mod.elf());
    EXPECT_EQ(bias != 0, t.pie);
    ProcessMemory memory(target.pid());
    ASSERT_TRUE(validate_runtime_globals(*globals, memory, bias, *layout.layout));
    // The measured layout passes its memory check; a wrong version's layout is rejected in favour of
    // one with the same g layout.
    auto verified = verify_layout(memory, *globals, bias, layout.layout->go_minor);
    ASSERT_TRUE(verified) << verified.error().message();
    EXPECT_EQ(verified->layout, layout.layout);
    EXPECT_TRUE(verified->exact_version);
    int wrong = layout.layout->go_minor == 19 ? 23 : 19;
    auto recovered = verify_layout(memory, *globals, bias, wrong);
    ASSERT_TRUE(recovered) << recovered.error().message();
    EXPECT_FALSE(recovered->exact_version);
    EXPECT_EQ(recovered->layout->g.goid, layout.layout->g.goid);
    EXPECT_EQ(recovered->layout->g.atomicstatus, layout.layout->g.atomicstatus);
    EXPECT_EQ(recovered->layout->g.stack_hi, layout.layout->g.stack_hi);
    GoroutineLister lister(*layout.layout, *globals, bias, find_wait_reasons(mod.elf()));
    // "ready" is printed just before main parks, and on a loaded machine a goroutine may still be on
    // its way to park: wait until main and every main.* goroutine is _Gwaiting.
    auto settled = [&](const GoroutineList& l) {
      size_t parked = 0;
      for (const auto& g : l.goroutines) {
        auto f = mod.pclntab()->find_func(g.startpc - bias);
        bool user = g.goid == 1 || (f && f->name.starts_with("main."));
        if (user && g.base_status() != kGwaiting) return false;
        parked += user;
      }
      return parked == 101;
    };
    auto list = lister.list(memory);
    for (int i = 0; i < 500 && list && !settled(*list); ++i) {
      usleep(10000);
      list = lister.list(memory);
    }
    ASSERT_TRUE(list) << list.error().message();
    EXPECT_GE(list->goroutines.size(), 101u);
    ASSERT_FALSE(list->ms.empty());

    // Every thread's current g (from TLS, and from R14 when in Go code) belongs to an M of allm
    // whose procid is that thread.
    std::map<uint64_t, const MInfo*> ms;
    for (const auto& m : list->ms) ms[m.addr] = &m;
    EXPECT_EQ(list->ms.back().id, 0);  // m0 is the last of allm (the list is pushed at the front)
    auto offsets = tls_g_offsets(mod.elf());
    for (pid_t tid : threads(target.pid())) {
      auto regs = thread_registers(tid);
      ASSERT_TRUE(regs) << "ptrace of thread " << tid;
      auto via_tls = current_g(memory, *regs, false, *layout.layout, offsets);
      ASSERT_TRUE(via_tls) << "thread " << tid << ": " << via_tls.error().message();
      ASSERT_TRUE(ms.count(via_tls->m)) << "thread " << tid;
      EXPECT_EQ(ms[via_tls->m]->procid, static_cast<uint64_t>(tid));
      bool in_go = mod.pclntab()->find_func(regs->pc - bias).has_value();
      auto any = current_g(memory, *regs, in_go, *layout.layout, offsets);
      ASSERT_TRUE(any);
      EXPECT_EQ(any->m, via_tls->m);
    }

    auto dump = parse_dump(target.sigquit_dump());
    ASSERT_GE(dump.size(), 101u);
    std::map<uint64_t, const GoroutineInfo*> mine;
    for (const auto& g : list->goroutines) mine[g.goid] = &g;
    int statuses[4] = {0, 0, 0, 0};
    for (const auto& [goid, d] : dump) {
      if (goid == 0) continue;  // the signalled M's g0 ("goroutine 0 [idle]"), not in allgs
      ASSERT_TRUE(mine.count(goid)) << "goroutine " << goid << " of the dump not listed";
      EXPECT_EQ(mine[goid]->status_text(), d.status) << "goroutine " << goid;
      EXPECT_EQ(mine[goid]->base_status(), kGwaiting) << "goroutine " << goid;
      for (int i = 0; i < 4; ++i)
        statuses[i] += d.status == std::vector<std::string>{"chan receive", "select", "sleep",
                                                            layout.layout->go_minor >= 20 ? "sync.Mutex.Lock"
                                                                                          : "semacquire"}[i];
    }
    EXPECT_EQ(statuses[0], 26);  // 25 + main
    EXPECT_EQ(statuses[1], 25);
    EXPECT_EQ(statuses[2], 25);
    EXPECT_EQ(statuses[3], 25);
    for (const auto& g : list->goroutines) {
      if (dump.count(g.goid)) continue;
      auto f = mod.pclntab()->find_func(g.startpc - bias);
      ASSERT_TRUE(f) << "goroutine " << g.goid;
      EXPECT_TRUE(f->name.starts_with("runtime.")) << "goroutine " << g.goid << " hidden from the dump: " << f->name;
      EXPECT_NE(f->name, "runtime.main");
    }
    // Created-by facts: g.gopc is in the creator, g.startpc is the goroutine's bottom function, and
    // g.parentGoid (1.21+) is the "in goroutine N" of the dump.
    for (const auto& [goid, d] : dump) {
      if (goid <= 1) continue;
      const GoroutineInfo& g = *mine[goid];
      auto creator = mod.pclntab()->find_func(g.gopc - 1 - bias);
      auto start = mod.pclntab()->find_func(g.startpc - bias);
      ASSERT_TRUE(creator && start) << "goroutine " << goid;
      EXPECT_EQ(creator->name, d.creator) << "goroutine " << goid;
      EXPECT_EQ(start->name, d.bottom) << "goroutine " << goid;
      EXPECT_EQ(g.parent_goid, layout.layout->go_minor >= 21 ? d.parent : 0) << "goroutine " << goid;
      EXPECT_EQ(d.parent, layout.layout->go_minor >= 21 ? 1u : 0u);
    }
  }
}

// A loopback TCP port that was free a moment ago (the kernel's choice for an ephemeral bind).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// Debian's stripped etcd (Go 1.19) serving on loopback. Its goroutines move between our read and the
// dump (tickers, raft), so: every goroutine the dump shows that existed at our read must be listed,
// and nearly all must have the same status.
TEST(GoroutineLister, DebianEtcdMatchesSigquitDump) {
  const std::string path = "/usr/bin/etcd";
  auto module = symbolize::Module::open(path);
  if (!module) GTEST_SKIP() << path << " not installed";
  const auto& mod = **module;
  auto globals = find_runtime_globals(mod);
  ASSERT_TRUE(globals) << globals.error().message();
  LayoutChoice layout = layout_for_go_minor(mod.build_info()->minor_version());
  char dir[] = "/tmp/goperf-etcd-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string client = "http://127.0.0.1:" + std::to_string(free_port()),
              peer = "http://127.0.0.1:" + std::to_string(free_port());
  {
    Target etcd({path, "--name", "t", "--data-dir", std::string(dir) + "/data", "--listen-client-urls", client,
                 "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", "t=" + peer, "--log-level", "error"});
    ASSERT_GT(etcd.pid(), 0);
    ProcessMemory memory(etcd.pid());
    uint64_t bias = load_bias(etcd.pid(), path, mod.elf());
    GoroutineLister lister(*layout.layout, *globals, bias, find_wait_reasons(mod.elf()));
    // Wait until the server has started its goroutines (a few dozen).
    Result<GoroutineList> list = make_error(ErrorCode::kUnavailable, "not read");
    for (int i = 0; i < 100; ++i) {
      usleep(50000);
      list = lister.list(memory);
      if (list && list->goroutines.size() >= 40) break;
    }
    ASSERT_TRUE(list) << list.error().message();
    ASSERT_GE(list->goroutines.size(), 40u);
    usleep(300000);
    list = lister.list(memory);
    ASSERT_TRUE(list) << list.error().message();
    std::map<uint64_t, const GoroutineInfo*> mine;
    uint64_t max_goid = 0;
    for (const auto& g : list->goroutines) mine[g.goid] = &g, max_goid = std::max(max_goid, g.goid);
    auto dump = parse_dump(etcd.sigquit_dump());
    size_t compared = 0, same = 0;
    for (const auto& [goid, d] : dump) {
      if (goid == 0 || goid > max_goid) continue;
      ASSERT_TRUE(mine.count(goid)) << "goroutine " << goid << " of the dump not listed";
      ++compared;
      same += mine[goid]->status_text() == d.status;
    }
    EXPECT_GE(compared, 30u);
    EXPECT_GE(same * 10, compared * 9) << same << " of " << compared << " statuses equal";
  }
  std::string rm = "rm -rf '" + std::string(dir) + "'";
  EXPECT_EQ(system(rm.c_str()), 0);
}

}  // namespace
}  // namespace goperf::unwind

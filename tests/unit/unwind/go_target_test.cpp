// GoTarget: the one set-up of a Go target. A layout that fits none of the target's goroutines is one
// line in GoTarget's words (the same record's eBPF backend prints); a live process opens with the layout
// of its version verified, a goroutine list, and the g of each of its threads.
#include "unwind/go_target.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "symbolize/build_info.h"
#include "symbolize/module.h"
#include "tests/unit/unwind/go_targets.h"
#include "unwind/memory.h"
#include "unwind/process_memory.h"

extern char** environ;

namespace goperf::unwind {
namespace {

// Memory that holds only the words put into it.
class WordMemory final : public Memory {
 public:
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes.find(addr + i);
      if (it == bytes.end()) return make_error(ErrorCode::kUnavailable, "unmapped");
      out[i] = it->second;
    }
    return {};
  }
  void put64(uint64_t addr, uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes[addr + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  std::map<uint64_t, uint8_t> bytes;
};

const testing::BuiltTarget* parked_target() {
  static std::vector<testing::BuiltTarget> built = [] {
    std::string error;
    auto t = testing::build_go_targets("layout_parked", {{false, false, true}}, &error);
    if (t.empty()) ADD_FAILURE() << error;
    return t;
  }();
  return built.empty() ? nullptr : &built.back();
}

TEST(GoTarget, LayoutThatFitsNoGoroutineIsOneLine) {
  const auto* t = parked_target();
  ASSERT_NE(t, nullptr);
  auto module = symbolize::Module::open(t->path);
  ASSERT_TRUE(module) << module.error().message();
  auto globals = find_runtime_globals(**module);
  ASSERT_TRUE(globals) << globals.error().message();
  // allgs: two g's whose every word is 0x77: no status, stack or goid any layout accepts.
  WordMemory memory;
  const uint64_t array = 0x10000, g = 0x20000;
  memory.put64(globals->allgs, array);
  memory.put64(globals->allgs + 8, 2);
  memory.put64(globals->allgs + 16, 2);
  memory.put64(array, g);
  memory.put64(array + 8, g + 0x1000);
  for (uint64_t off = 0; off < 0x2000; off += 8) memory.put64(g + off, 0x7777777777777777ULL);
  auto target = GoTarget::open(memory, **module, 0, "the test target");
  ASSERT_FALSE(target);
  const std::string& why = target.error().message();
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  EXPECT_EQ(why.rfind("the Go runtime layout does not fit the test target's goroutines (no known layout fits them, Go 1.", 0), 0u)
      << why;
  EXPECT_EQ(why, GoTarget::layout_mismatch("the test target", "no known layout fits them, Go 1." +
                                                                std::to_string((*module)->build_info()->minor_version())));
}

TEST(GoTarget, NoGoroutineListIsNotFound) {
  auto module = symbolize::Module::open("/bin/true");
  ASSERT_TRUE(module) << module.error().message();
  WordMemory memory;
  auto target = GoTarget::open(memory, **module, 0, "/bin/true");
  ASSERT_FALSE(target);
  EXPECT_EQ(target.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(target.error().message().rfind("cannot find the goroutine list in /bin/true", 0), 0u) << target.error().message();
}

TEST(GoTarget, ProcessThatIsNotGoSaysSo) {
  auto target = GoTarget::open_process(getpid());
  ASSERT_FALSE(target);
  EXPECT_NE(target.error().message().find("is not a Go program"), std::string::npos) << target.error().message();
}

// The target running, stdout read until "ready"; killed on destruction.
class Running {
 public:
  explicit Running(const std::string& path) {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::string arg0 = path, arg1 = "5";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    out_ = fdopen(out[0], "r");
  }
  ~Running() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_) fclose(out_);
  }
  bool ready() {
    char line[256];
    while (out_ && fgets(line, sizeof line, out_))
      if (std::strncmp(line, "ready", 5) == 0) return true;
    return false;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

TEST(GoTarget, LiveProcessOpensWithItsVersionsLayoutVerified) {
  const auto* t = parked_target();
  ASSERT_NE(t, nullptr);
  Running run(t->path);
  ASSERT_GT(run.pid(), 0);
  ASSERT_TRUE(run.ready());
  auto target = GoTarget::open_process(run.pid());
  ASSERT_TRUE(target) << target.error().message();
  const GoTarget& g = **target;
  ASSERT_NE(g.module().build_info(), nullptr);
  EXPECT_EQ(g.go_minor(), g.module().build_info()->minor_version());
  EXPECT_EQ(&g.layout(), layout_for_go_minor(g.go_minor()).layout);
  EXPECT_TRUE(g.layout_choice().exact_version);
  EXPECT_EQ(g.tls_g_offsets().front(), -8);  // internal linking: runtime.tlsg is the only TLS word
  ASSERT_NE(g.space(), nullptr);
  auto list = g.lister().list(g.memory());
  ASSERT_TRUE(list) << list.error().message();
  EXPECT_GE(list->goroutines.size(), 21u);  // main and 4 x 5 parked
}

}  // namespace
}  // namespace goperf::unwind

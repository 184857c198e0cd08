// CoreFile and CoreMemory on a real core: a forked copy of this test aborts with a known marker in memory; the
// fork shares this process's layout, so every address can be checked against our own memory.
#include "unwind/core_file.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "unwind/core_memory.h"

namespace goperf::unwind {
namespace {

namespace fs = std::filesystem;

char g_marker[64] = "goperf core marker: not yet written";

__attribute__((noinline)) int code_to_compare(int x) { return x * 7 + 3; }

// Returns the path of the core a forked child left in dir, or "" when the host keeps no core there.
std::string make_core(const fs::path& dir, pid_t* pid) {
  std::ifstream pattern("/proc/sys/kernel/core_pattern");
  std::string p;
  std::getline(pattern, p);
  if (p.empty() || p[0] == '|' || p[0] == '/') return "";
  *pid = fork();
  if (*pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(2);
    rlimit rl{RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_CORE, &rl);
    std::strcpy(g_marker, "goperf core marker: written by the child");
    std::abort();
  }
  int status = 0;
  waitpid(*pid, &status, 0);
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("core", 0) == 0) return e.path();
  return "";
}

class CoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("goperf-core-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = make_core(dir_, &pid_);
    if (path_.empty()) GTEST_SKIP() << "no core written here (kernel.core_pattern is a pipe or an absolute path)";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
  pid_t pid_ = 0;
};

TEST_F(CoreFileTest, ThreadsSignalAndProcess) {
  auto core = CoreFile::open(path_);
  ASSERT_TRUE(core.ok()) << core.error().message();
  const CoreFile& c = **core;
  ASSERT_FALSE(c.threads().empty());
  EXPECT_EQ(c.threads()[0].tid, static_cast<uint32_t>(pid_));
  EXPECT_EQ(c.crashing_thread()->cursig, SIGABRT);
  EXPECT_TRUE(c.signal().present);
  EXPECT_EQ(c.signal().signo, SIGABRT);
  EXPECT_EQ(c.process().pid, static_cast<uint32_t>(pid_));
  EXPECT_NE(c.threads()[0].regs.sp, 0u);
  EXPECT_NE(c.threads()[0].regs.tls_base, 0u);
  ASSERT_NE(c.executable_mapping(), nullptr);
  EXPECT_EQ(fs::canonical(strip_deleted_suffix(c.executable_mapping()->path)), fs::canonical("/proc/self/exe"));
  EXPECT_TRUE(c.auxv_value(9).has_value());  // AT_ENTRY
}

TEST_F(CoreFileTest, MemoryHasDumpedDataAndFileBackedText) {
  auto core = CoreFile::open(path_);
  ASSERT_TRUE(core.ok()) << core.error().message();
  auto mem = CoreMemory::create(*core, {});
  ASSERT_TRUE(mem.ok()) << mem.error().message();
  char marker[64];
  ASSERT_TRUE((*mem)->read(reinterpret_cast<uint64_t>(g_marker), {reinterpret_cast<uint8_t*>(marker), sizeof marker}));
  EXPECT_STREQ(marker, "goperf core marker: written by the child");
  // Text is not dumped (coredump_filter 0x33): it comes from the executable and equals ours.
  uint8_t code[32];
  auto addr = reinterpret_cast<uint64_t>(&code_to_compare);
  ASSERT_TRUE((*mem)->read(addr, code));
  EXPECT_EQ(std::memcmp(code, reinterpret_cast<const void*>(addr), sizeof code), 0);
  EXPECT_FALSE((*mem)->read(8, code).ok());  // unmapped
}

TEST_F(CoreFileTest, TruncatedCoreIsAnError) {
  std::ifstream in(path_, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2 + 17);
  auto cut = dir_ / "cut";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  auto core = CoreFile::open(cut);
  ASSERT_FALSE(core.ok());
  EXPECT_EQ(core.error().code(), ErrorCode::kTruncated);
  EXPECT_NE(core.error().message().find("truncated"), std::string::npos);
}

TEST(CoreFileBadInput, EmptyRandomAndNotCore) {
  EXPECT_FALSE(CoreFile::from_bytes({}, "empty").ok());
  std::vector<uint8_t> junk(4096, 0x5a);
  EXPECT_FALSE(CoreFile::from_bytes(junk, "junk").ok());
  auto exe = CoreFile::open("/proc/self/exe");
  ASSERT_FALSE(exe.ok());
  EXPECT_NE(exe.error().message().find("not a core"), std::string::npos) << exe.error().message();
  auto missing = CoreFile::open("/nonexistent/core");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace goperf::unwind

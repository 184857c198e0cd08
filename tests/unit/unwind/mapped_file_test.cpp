// MappedFile: a file is used for a mapping only when shown to be the mapped one. The mapped file here is
// this test program's own (its code is mapped, its memory readable); the wrong files are other programs
// and copies of this one with and without a build id.
#include "unwind/mapped_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/process_memory.h"

namespace goperf::unwind {
namespace {

namespace fs = std::filesystem;

// The mapping of this program's code, as /proc/self/maps shows it.
Mapping own_code() {
  auto maps = Mappings::read_proc(getpid());
  EXPECT_TRUE(maps) << maps.error().message();
  const Mapping* m = maps->find(reinterpret_cast<uint64_t>(&own_code));
  EXPECT_NE(m, nullptr);
  return m ? *m : Mapping{};
}

struct Opened {
  struct stat st {};
  std::shared_ptr<const symbolize::ElfFile> elf;
};

Opened open_file(const std::string& path) {
  Opened o;
  EXPECT_EQ(stat(path.c_str(), &o.st), 0) << path;
  auto elf = symbolize::ElfFile::open(path);
  EXPECT_TRUE(elf) << elf.error().message();
  if (elf) o.elf = *elf;
  return o;
}

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("goperf-mapped-file-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    self_ = fs::read_symlink("/proc/self/exe").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string self_;
  ProcessMemory memory_{getpid()};
};

TEST_F(MappedFileTest, TheMappedFileIsAccepted) {
  Mapping m = own_code();
  auto f = open_file(self_);
  ASSERT_TRUE(f.elf);
  EXPECT_TRUE(check_mapped_file(f.st, *f.elf, m, &memory_));
  EXPECT_TRUE(check_mapped_file(f.st, *f.elf, m, nullptr)) << "same device and inode need no memory";
}

TEST_F(MappedFileTest, AnotherProgramIsRefused) {
  Mapping m = own_code();
  auto f = open_file("/bin/true");
  ASSERT_TRUE(f.elf);
  ASSERT_FALSE(f.elf->gnu_build_id().empty()) << "/bin/true has a build id on Debian";
  auto st = check_mapped_file(f.st, *f.elf, m, &memory_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("the mapping's inode " + std::to_string(m.inode)), std::string::npos)
      << st.error().message();
  EXPECT_FALSE(check_mapped_file(f.st, *f.elf, m, nullptr));
}

TEST_F(MappedFileTest, ACopyIsAcceptedByItsBuildIdOnly) {
  Mapping m = own_code();
  auto own = open_file(self_);
  ASSERT_TRUE(own.elf);
  if (own.elf->gnu_build_id().empty()) GTEST_SKIP() << "this test program was linked without a build id";
  fs::path copy = dir_ / "copy";
  fs::copy_file(self_, copy);
  auto f = open_file(copy.string());
  ASSERT_TRUE(f.elf);
  EXPECT_TRUE(check_mapped_file(f.st, *f.elf, m, &memory_)) << "the same build at another inode";
  EXPECT_FALSE(check_mapped_file(f.st, *f.elf, m, nullptr)) << "nothing to compare the build id with";

  // The same copy without its build id: another inode and nothing that shows it is the same build.
  fs::path bare = dir_ / "bare";
  std::string cmd = "objcopy --remove-section=.note.gnu.build-id '" + copy.string() + "' '" + bare.string() + "'";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "objcopy (binutils) is missing";
  auto b = open_file(bare.string());
  ASSERT_TRUE(b.elf);
  ASSERT_TRUE(b.elf->gnu_build_id().empty());
  auto st = check_mapped_file(b.st, *b.elf, m, &memory_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("no build id"), std::string::npos) << st.error().message();
}

TEST_F(MappedFileTest, OpensThroughTheProcess) {
  Mapping m = own_code();
  ProcessFiles self{getpid(), fs::read_symlink("/proc/self/exe").string(), &memory_};
  auto module = open_mapped_module(self, m);
  ASSERT_TRUE(module) << module.error().message();
  EXPECT_EQ((*module)->elf().path(), m.path) << "named as the process shows it";
}

// A proc tree whose every way to the file leads to another program: nothing is used, and the message
// names each file tried.
TEST_F(MappedFileTest, NoFileShownToBeTheMappedOneIsUsed) {
  Mapping m = own_code();
  fs::path proc = dir_ / "proc", pid_dir = proc / std::to_string(getpid());
  fs::create_directories(pid_dir / "map_files");
  fs::create_symlink("/bin/true", pid_dir / "exe");
  fs::path root = pid_dir / "root";
  fs::create_directories(root / fs::path(m.display_path()).relative_path().parent_path());
  fs::copy_file("/bin/true", root / fs::path(m.display_path()).relative_path());
  ProcessFiles fake{getpid(), m.path, &memory_, proc.string()};
  auto module = open_mapped_module(fake, m);
  ASSERT_FALSE(module);
  const std::string& why = module.error().message();
  EXPECT_EQ(why.find('\n'), std::string::npos);
  for (const char* tried : {"/map_files/", "/exe: not the mapped file", "/root/"}) {
    EXPECT_NE(why.find(tried), std::string::npos) << tried << " in: " << why;
  }
}

}  // namespace
}  // namespace goperf::unwind

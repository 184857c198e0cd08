// AddressSpace of a live process (this test program): its files are the ones mapped, and a mapping whose
// path leads to another file has no module, with the reason kept.
#include "unwind/address_space.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"

namespace goperf::unwind {
namespace {

TEST(AddressSpaceTest, ExecutableOfALiveProcessIsTheMappedFile) {
  auto space = AddressSpace::for_process(getpid());
  ASSERT_TRUE(space) << space.error().message();
  auto exe = (*space)->executable();
  ASSERT_TRUE(exe) << exe.error().message();
  EXPECT_EQ(exe->module->elf().path(), std::filesystem::read_symlink("/proc/self/exe").string());
  auto here = (*space)->find(reinterpret_cast<uint64_t>(&AddressSpace::for_process));
  ASSERT_TRUE(here);
  EXPECT_EQ(here->module, exe->module);
}

TEST(AddressSpaceTest, AMappingWhosePathLeadsToAnotherFileHasNoModule) {
  auto own = Mappings::read_proc(getpid());
  ASSERT_TRUE(own) << own.error().message();
  const Mapping* code = own->find(reinterpret_cast<uint64_t>(&AddressSpace::for_process));
  ASSERT_NE(code, nullptr);
  // This program's identity at an address range the process does not map, under another program's path.
  Mapping m = *code;
  m.start = 0x10000;
  m.end = 0x11000;
  m.path = "/bin/true";
  AddressSpace space(Mappings({m}), getpid());
  EXPECT_FALSE(space.find(0x10010));
  auto why = space.open_error(m);
  ASSERT_TRUE(why);
  EXPECT_NE(why->message().find("not the mapped file"), std::string::npos) << why->message();
  ASSERT_EQ(space.open_failures().size(), 1u);
  EXPECT_FALSE(space.executable());

  // The same file under a core's rules (no process to go through): opened by its path.
  AddressSpace core(Mappings({m}), 0);
  EXPECT_TRUE(core.find(0x10010));
}

TEST(AddressSpaceTest, ReReadMapsKeepTheFilesOpened) {
  auto first = AddressSpace::for_process(getpid());
  ASSERT_TRUE(first);
  (*first)->open_executable_files();
  auto second = AddressSpace::for_process(getpid());
  ASSERT_TRUE(second);
  (*second)->reuse_modules(**first);
  auto a = (*first)->executable(), b = (*second)->executable();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->module, b->module);
}

}  // namespace
}  // namespace goperf::unwind

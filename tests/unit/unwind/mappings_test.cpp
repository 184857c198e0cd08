// Mappings: /proc/PID/maps parsing and lookup.
#include "unwind/mappings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>

namespace goperf::unwind {
namespace {

TEST(MappingsTest, ParsesMapsLines) {
  auto m = Mappings::parse(
      "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n"
      "00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n"
      "7f2c2b500000-7f2c2b600000 rw-p 00000000 00:00 0 \n"
      "00651000-00652000 r--p 00051000 08:02 173521      /usr/bin/dbus-daemon\n");
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->all().size(), 4u);
  EXPECT_EQ(m->all()[1].start, 0x651000u);  // sorted
  const Mapping* text = m->find(0x400123);
  ASSERT_NE(text, nullptr);
  EXPECT_TRUE(text->executable);
  EXPECT_TRUE(text->file_backed());
  EXPECT_EQ(text->path, "/usr/bin/dbus-daemon");
  const Mapping* ro = m->find(0x651800);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->offset, 0x51000u);
  EXPECT_FALSE(ro->executable);
  EXPECT_EQ(m->find(0x452000), nullptr);
  EXPECT_EQ(m->find(0x3fffff), nullptr);
  EXPECT_FALSE(m->find(0x7f2c2b500010)->file_backed());
  EXPECT_EQ(m->find(0xe03000)->path, "[heap]");
}

TEST(MappingsTest, ParsesDeviceAndInode) {
  auto m = Mappings::parse(
      "00400000-00452000 r-xp 00000000 fe:01 247026      /srv/app (deleted)\n"
      "7f0000000000-7f0000001000 r-xp 00000000 103:1a 18446744073709551615 /lib/x.so\n"
      "00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n");
  ASSERT_TRUE(m) << m.error().message();
  const Mapping* app = m->find(0x400000);
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->dev_major, 0xfeu);
  EXPECT_EQ(app->dev_minor, 1u);
  EXPECT_EQ(app->inode, 247026u);
  EXPECT_TRUE(app->has_identity());
  EXPECT_EQ(app->path, "/srv/app (deleted)");  // as the kernel shows it
  EXPECT_EQ(app->display_path(), "/srv/app");
  const Mapping* lib = m->find(0x7f0000000000);
  ASSERT_NE(lib, nullptr);
  EXPECT_EQ(lib->dev_major, 0x103u);
  EXPECT_EQ(lib->dev_minor, 0x1au);
  EXPECT_EQ(lib->inode, UINT64_MAX);
  EXPECT_EQ(lib->display_path(), "/lib/x.so");
  EXPECT_FALSE(m->find(0xe03000)->has_identity());
  for (const char* bad : {"00400000-00452000 r-xp 00000000 fe01 1 /a\n", "00400000-00452000 r-xp 00000000 fe:01 x /a\n",
                          "00400000-00452000 r-xp 00000000 fe:zz 1 /a\n"}) {
    EXPECT_FALSE(Mappings::parse(bad)) << bad;
  }
}

TEST(MappingsTest, OwnExecutableShowsItsFileIdentity) {
  auto m = Mappings::read_proc(getpid());
  ASSERT_TRUE(m) << m.error().message();
  const Mapping* text = m->find(reinterpret_cast<uint64_t>(&Mappings::parse));
  ASSERT_NE(text, nullptr);
  struct stat st {};
  ASSERT_EQ(stat("/proc/self/exe", &st), 0);
  EXPECT_EQ(text->dev_major, major(st.st_dev));
  EXPECT_EQ(text->dev_minor, minor(st.st_dev));
  EXPECT_EQ(text->inode, static_cast<uint64_t>(st.st_ino));
}

TEST(MappingsTest, RejectsGarbage) {
  auto m = Mappings::parse("hello world\n");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kFormat);
}

TEST(MappingsTest, ReadsOwnProcess) {
  auto m = Mappings::read_proc(getpid());
  ASSERT_TRUE(m) << m.error().message();
  int local = 0;
  const Mapping* stack = m->find(reinterpret_cast<uint64_t>(&local));
  ASSERT_NE(stack, nullptr);
  EXPECT_TRUE(stack->writable);
  auto gone = Mappings::read_proc(999999999);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace goperf::unwind

// Mappings: /proc/PID/maps parsing and lookup.
#include "unwind/mappings.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

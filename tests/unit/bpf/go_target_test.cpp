// configure_for_executable: the eBPF program's Go offsets come from the target's build info and PT_TLS.
#include "bpf/go_target.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "unwind/go_runtime_layout.h"

namespace goperf::bpf {
namespace {

TEST(ConfigureForExecutable, DebianEtcdIsGo119) {
  const char* etcd = "/usr/bin/etcd";
  if (access(etcd, R_OK) != 0) GTEST_SKIP() << etcd << " not installed (Debian etcd-server)";
  BpfSamplerOptions o;
  auto note = configure_for_executable(o, etcd);
  ASSERT_TRUE(note.ok()) << note.error().message();
  EXPECT_EQ(*note, "");
  const auto& l = *unwind::layout_for_go_minor(19).layout;
  EXPECT_EQ(o.go_minor, 19);
  EXPECT_EQ(o.g_goid_offset, l.g.goid);
  EXPECT_EQ(o.g_labels_offset, l.g.labels);
  EXPECT_EQ(o.g_labels_offset, 360u);  // go-internals.md, measured from DWARF of go1.19.8
  EXPECT_EQ(o.m_curg_offset, 192u);
  EXPECT_EQ(o.g_stack_hi_offset, 8u);
  EXPECT_EQ(o.g_m_offset, 48u);
  EXPECT_EQ(o.tls_g_offset, -8);
}

TEST(ConfigureForExecutable, NotGoSaysSo) {
  BpfSamplerOptions o;
  auto note = configure_for_executable(o, "/bin/true");
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("no Go build information"), std::string::npos) << *note;
  EXPECT_EQ(o.g_goid_offset, 0u);
}

TEST(ConfigureForExecutable, MissingFileIsAnError) {
  BpfSamplerOptions o;
  EXPECT_FALSE(configure_for_executable(o, "/nonexistent/goperf-test").ok());
}

}  // namespace
}  // namespace goperf::bpf

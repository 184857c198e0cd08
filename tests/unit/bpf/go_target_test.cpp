// configure_for_executable: the eBPF program's Go layout comes from the target's build info and PT_TLS.
#include "bpf/go_target.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "unwind/go_runtime_layout.h"
#include "unwind/goroutine_lister.h"

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
  ASSERT_EQ(o.layout, &l);
  EXPECT_EQ(o.layout->g.labels, 360u);  // go-internals.md, measured from DWARF of go1.19.8
  EXPECT_EQ(o.layout->m.curg, 192u);
  EXPECT_EQ(o.layout->g.stack_hi, 8u);
  EXPECT_EQ(o.layout->g.m, 48u);
  EXPECT_EQ(o.tls_g_offset, -8);
}

TEST(ConfigureForExecutable, NotGoSaysSo) {
  BpfSamplerOptions o;
  auto note = configure_for_executable(o, "/bin/true");
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("no Go build information"), std::string::npos) << *note;
  EXPECT_EQ(o.layout, nullptr);
}

TEST(ConfigureForExecutable, MissingFileIsAnError) {
  BpfSamplerOptions o;
  EXPECT_FALSE(configure_for_executable(o, "/nonexistent/goperf-test").ok());
}

}  // namespace
}  // namespace goperf::bpf

// PprofWriter: the written file is read back by the Go toolchain's own pprof (the oracle).
#include "flamegraph/pprof_writer.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "flamegraph/gzip.h"
#include "flamegraph/profile.h"
#include "flamegraph/profile_builder.h"

namespace goperf::flamegraph {
namespace {

std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  *status = pclose(f);
  return out;
}

bool have_go() {
  int st = 0;
  run("go version >/dev/null 2>&1", &st);
  return st == 0;
}

Profile sample_profile() {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}}, {"cpu", "nanoseconds"}, 10'000'000);
  Mapping m;
  m.start = 0x400000;
  m.limit = 0x500000;
  m.filename = "/usr/bin/prog";
  m.build_id = "abc123";
  m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = true;
  int32_t map = b.add_mapping(m);
  uint32_t f_main = b.add_function("main.main", "main.main", "/src/prog/main.go", 10);
  uint32_t f_work = b.add_function("main.work", "main.work", "/src/prog/main.go", 20);
  uint32_t f_inl = b.add_function("main.helper", "main.helper", "/src/prog/util.go", 5);
  std::array<Line, 1> l_main{Line{f_main, 12}};
  std::array<Line, 2> l_work{Line{f_inl, 7}, Line{f_work, 22}};  // helper inlined into work
  uint32_t loc_main = b.add_location(0x401234, map, l_main);
  uint32_t loc_work = b.add_location(0x402000, map, l_work);
  std::array<uint32_t, 2> stack{loc_work, loc_main};
  std::array<Label, 2> labels{Label{"handler", "/api", 0, ""}, Label{"bytes", "", 4096, "bytes"}};
  std::array<int64_t, 2> one{1, 10'000'000};
  b.add_sample(stack, one, labels);
  b.add_sample(stack, one, labels);  // merged with the first
  std::array<uint32_t, 1> only_main{loc_main};
  b.add_sample(only_main, one);
  Profile p = b.take();
  p.default_sample_type = 1;
  p.comments.push_back("written by goperf's unit test");
  return p;
}

TEST(PprofWriterTest, WritesGzipWithStringTableAndIdsFromOne) {
  Profile p = sample_profile();
  std::string out;
  ASSERT_TRUE(PprofWriter().write(p, out).ok());
  ASSERT_TRUE(is_gzip(out));
  auto raw = gunzip(out);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, encode_pprof(p));
  // The builder merged the two identical samples.
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].values[0], 2);
}

TEST(PprofWriterTest, GoToolPprofReadsTheFile) {
  if (!have_go()) GTEST_SKIP() << "no go toolchain on PATH";
  const std::string path = std::string(GOPERF_BINARY_DIR) + "/pprof_writer_test.pb.gz";
  ASSERT_TRUE(write_pprof_file(sample_profile(), path).ok());
  int status = -1;
  std::string out = run("go tool pprof -raw -symbolize=none " + path + " 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  // Header, the merged sample (2 samples, 20ms), both stacks, the inlined frame, labels and the mapping.
  EXPECT_NE(out.find("PeriodType: cpu nanoseconds"), std::string::npos) << out;
  EXPECT_NE(out.find("Period: 10000000"), std::string::npos) << out;
  EXPECT_NE(out.find("samples/count cpu/nanoseconds"), std::string::npos) << out;
  EXPECT_NE(out.find("2   20000000: 2 1"), std::string::npos) << out;
  EXPECT_NE(out.find("1   10000000: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("main.helper /src/prog/util.go:7"), std::string::npos) << out;
  EXPECT_NE(out.find("main.work /src/prog/main.go:22"), std::string::npos) << out;
  EXPECT_NE(out.find("main.main /src/prog/main.go:12"), std::string::npos) << out;
  EXPECT_NE(out.find("handler:[/api]"), std::string::npos) << out;
  EXPECT_NE(out.find("bytes:[4096"), std::string::npos) << out;
  EXPECT_NE(out.find("/usr/bin/prog abc123"), std::string::npos) << out;

  // -top works on it too, and sees 30ms in total.
  out = run("go tool pprof -top -symbolize=none " + path + " 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("30ms total"), std::string::npos) << out;
}

}  // namespace
}  // namespace goperf::flamegraph

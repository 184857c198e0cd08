// BuildInfo against `go version -m` (every toolchain and variant, Debian's etcd and restic), and
// synthetic blobs: truncated, bad magic, pre-1.18 format.
#include "symbolize/build_info.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "symbolize/elf_file.h"
#include "tests/unit/symbolize/go_targets.h"

namespace goperf::symbolize {
namespace {

using testing::Variant;

// strconv.Quote, for what runtime/debug.BuildInfo.String quotes.
std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else if (c == '\t') o += "\\t";
    else if (c == '\r') o += "\\r";
    else o += c;
  }
  return o + "\"";
}

// The text `go version -m FILE` prints (cmd/go/internal/version, runtime/debug.BuildInfo.String).
std::string render(const std::string& file, const BuildInfo& bi) {
  std::string o = file + ": " + bi.go_version + "\n";
  if (!bi.main_path.empty()) o += "\tpath\t" + bi.main_path + "\n";
  auto mod = [&o](const std::string& word, const GoModule& m) {
    o += "\t" + word + "\t" + m.path + "\t" + m.version;
    if (m.replace) {
      o += "\n\t=>\t" + m.replace->first + "\t" + m.replace->second + "\t" + m.sum + "\n";
    } else {
      o += "\t" + m.sum + "\n";
    }
  };
  if (!bi.main.path.empty()) mod("mod", bi.main);
  for (const auto& d : bi.deps) mod("dep", d);
  for (auto [k, v] : bi.settings) {
    if (k.empty() || k.find_first_of("= \t\r\n\"`") != std::string::npos) k = quote(k);
    if (v.find_first_of(" \t\r\n\"`") != std::string::npos) v = quote(v);
    o += "\tbuild\t" + k + "=" + v + "\n";
  }
  return o;
}

void expect_equals_go_version_m(const std::string& bin, const testing::Toolchain& tc) {
  auto elf = ElfFile::open(bin);
  ASSERT_TRUE(elf) << elf.error().message();
  auto bi = BuildInfo::read(**elf);
  ASSERT_TRUE(bi) << bi.error().message();
  int st = -1;
  std::string want = testing::run("env " + tc.env + " " + tc.go + " version -m '" + bin + "'", &st);
  ASSERT_EQ(st, 0);
  EXPECT_EQ(render(bin, *bi), want);
}

class BuildInfoGoTest : public ::testing::TestWithParam<std::tuple<std::string, Variant>> {};

TEST_P(BuildInfoGoTest, EqualsGoVersionM) {
  auto [tc_name, variant] = GetParam();
  const auto* tc = testing::find_toolchain(tc_name);
  if (!tc) GTEST_SKIP() << tc_name << " is not installed";
  std::string bin = testing::build_target("callers_frames", *tc, variant);
  ASSERT_FALSE(bin.empty());
  expect_equals_go_version_m(bin, *tc);
  auto elf = ElfFile::open(bin);
  auto bi = BuildInfo::read(**elf);
  EXPECT_EQ(bi->minor_version(), tc_name == "go1.19" ? 19 : tc_name == "go1.26" ? 26 : 27);
  EXPECT_EQ(bi->setting("CGO_ENABLED"), variant.cgo ? "1" : "0");
  EXPECT_EQ(bi->setting("GOARCH"), "amd64");
  EXPECT_EQ(bi->setting("no-such-key"), "");
  EXPECT_EQ(bi->main_path, "example.com/callers_frames");
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, BuildInfoGoTest,
                         ::testing::Combine(::testing::Values("go1.19", "go1.26", "go1.27.3"),
                                            ::testing::ValuesIn(testing::all_variants())),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" + std::get<1>(p.param).name();
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(BuildInfoDebian, EtcdAndRestic) {
  if (testing::toolchains().empty()) GTEST_SKIP() << "no Go toolchain for `go version -m`";
  int checked = 0;
  for (const char* bin : {"/usr/bin/etcd", "/usr/bin/restic", "/usr/bin/etcdctl"}) {
    if (!std::filesystem::exists(bin)) continue;
    expect_equals_go_version_m(bin, testing::toolchains().front());
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "etcd, restic not installed (scripts/setup installs them)";
}

std::vector<uint8_t> blob(const std::string& version, const std::string& mod, uint8_t flags = 2) {
  std::vector<uint8_t> b = {0xff, ' ', 'G', 'o', ' ', 'b', 'u', 'i', 'l', 'd', 'i', 'n', 'f', ':', 8, flags};
  b.resize(32, 0);
  for (const std::string* s : {&version, &mod}) {
    uint64_t n = s->size();
    do {
      b.push_back(static_cast<uint8_t>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
      n >>= 7;
    } while (n);
    b.insert(b.end(), s->begin(), s->end());
  }
  return b;
}

TEST(BuildInfoParse, ModinfoLines) {
  std::string sentinel(16, 'x');
  // Between two 16-byte sentinels; the text ends in '\n', 17 bytes from the end (debug/buildinfo).
  std::string mod = sentinel +
                    "path\texample.com/cmd\nmod\texample.com\tv1.2.3\th1:abc=\n"
                    "dep\tgolang.org/x/sys\tv0.1.0\th1:def=\n"
                    "dep\texample.com/old\tv1.0.0\n=>\t../local\t(devel)\t\n"
                    "build\t-ldflags=\"-s -w\"\nbuild\tvcs.revision=abc123\n" +
                    sentinel;
  auto bi = BuildInfo::parse(blob("go1.22.0 X:nocoverageredesign", mod));
  ASSERT_TRUE(bi) << bi.error().message();
  EXPECT_EQ(bi->go_version, "go1.22.0 X:nocoverageredesign");
  EXPECT_EQ(bi->minor_version(), 22);
  EXPECT_EQ(bi->main_path, "example.com/cmd");
  EXPECT_EQ(bi->main.path, "example.com");
  EXPECT_EQ(bi->main.version, "v1.2.3");
  EXPECT_EQ(bi->main.sum, "h1:abc=");
  ASSERT_EQ(bi->deps.size(), 2u);
  EXPECT_EQ(bi->deps[0].path, "golang.org/x/sys");
  EXPECT_FALSE(bi->deps[0].replace);
  ASSERT_TRUE(bi->deps[1].replace);
  EXPECT_EQ(bi->deps[1].replace->first, "../local");
  EXPECT_EQ(bi->deps[1].replace->second, "(devel)");
  EXPECT_EQ(bi->setting("-ldflags"), "-s -w");
  EXPECT_EQ(bi->setting("vcs.revision"), "abc123");
}

TEST(BuildInfoParse, BadInputs) {
  auto good = blob("go1.21.0", "");
  EXPECT_TRUE(BuildInfo::parse(good));
  auto bad_magic = good;
  bad_magic[3] = 'X';
  auto r = BuildInfo::parse(bad_magic);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFormat);
  auto old = blob("go1.17", "", 0);
  r = BuildInfo::parse(old);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  for (size_t n = 0; n < good.size(); ++n) {
    auto t = BuildInfo::parse(std::span<const uint8_t>(good.data(), n));
    EXPECT_FALSE(t) << n;
  }
  auto huge_len = good;
  huge_len[32] = 0xff;  // a varint length running past the end
  EXPECT_FALSE(BuildInfo::parse(huge_len));
  EXPECT_EQ(BuildInfo{}.minor_version(), 0);
}

}  // namespace
}  // namespace goperf::symbolize

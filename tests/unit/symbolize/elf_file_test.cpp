// ElfFile on real Go binaries (build ids against `go tool buildid` and readelf) and on bad input:
// missing, directory, empty, not ELF, truncated, corrupted: a clean error or a usable object, never a crash.
#include "symbolize/elf_file.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "symbolize/build_info.h"
#include "symbolize/module.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"
#include "tests/unit/symbolize/go_targets.h"

namespace goperf::symbolize {
namespace {

using testing::Variant;

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

std::string tmp_path(const std::string& name) {
  auto dir = std::filesystem::path(GOPERF_BINARY_DIR) / "unit-targets" / "tmp";
  std::filesystem::create_directories(dir);
  return (dir / (name + "-" + std::to_string(getpid()))).string();
}

// Uses every part of a module the way goperf does; must never crash whatever the bytes.
void exercise(const std::shared_ptr<const ElfFile>& elf) {
  (void)elf->notes();
  (void)elf->gnu_build_id();
  (void)elf->go_build_id();
  (void)BuildInfo::read(*elf);
  auto mod = Module::from_elf(elf);
  ASSERT_TRUE(mod);
  (void)(*mod)->native_symbols().size();
  const Pclntab* tab = (*mod)->pclntab();
  if (!tab || tab->func_count() == 0) return;
  std::vector<Frame> frames;
  std::mt19937_64 rng(3);
  for (size_t i = 0; i < tab->func_count(); i += 1 + tab->func_count() / 200) {
    FuncInfo f = tab->func_at(i);
    for (uint64_t pc : {f.entry, f.entry + 1, f.end - 1, f.entry + rng() % 4096}) {
      frames.clear();
      (*mod)->symbolize(pc, true, frames);
      (void)tab->sp_delta(f, pc);
    }
  }
  (void)tab->find_func_by_name("main.main");
}

TEST(ElfFileErrors, MissingFile) {
  auto r = ElfFile::open("/nonexistent/goperf-test-binary");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("/nonexistent/goperf-test-binary"), std::string::npos);
  EXPECT_FALSE(Module::open("/nonexistent/goperf-test-binary"));
}

TEST(ElfFileErrors, Directory) {
  auto r = ElfFile::open(GOPERF_SOURCE_DIR);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("directory"), std::string::npos);
}

TEST(ElfFileErrors, EmptyAndNotElf) {
  std::string empty = tmp_path("empty");
  std::ofstream(empty).close();
  auto r = ElfFile::open(empty);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFormat);
  auto text = ElfFile::open(std::string(GOPERF_SOURCE_DIR) + "/tests/targets/callers_frames/main.go");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code(), ErrorCode::kFormat);
  EXPECT_NE(text.error().message().find("not an ELF file"), std::string::npos);
  std::filesystem::remove(empty);
}

TEST(ElfFileErrors, Unreadable) {
  if (geteuid() == 0) GTEST_SKIP() << "running as root: file permissions do not deny reading";
  std::string p = tmp_path("unreadable");
  std::ofstream(p) << "x";
  std::filesystem::permissions(p, std::filesystem::perms::none);
  auto r = ElfFile::open(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kPermission);
  std::filesystem::remove(p);
}

TEST(ElfFileErrors, NonGoElfHasNoPclntab) {
  std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  auto mod = Module::open(libc);
  if (!mod) GTEST_SKIP() << libc << " is not readable";
  EXPECT_EQ((*mod)->pclntab(), nullptr);
  auto tab = Pclntab::load((*mod)->elf_ptr());
  ASSERT_FALSE(tab);
  EXPECT_EQ(tab.error().code(), ErrorCode::kFormat);
  EXPECT_EQ((*mod)->build_info(), nullptr);
  const NativeSymbols& ns = (*mod)->native_symbols();
  auto memcpy_sym = ns.find_by_name("memcpy");
  ASSERT_TRUE(memcpy_sym);  // from .dynsym
  std::vector<Frame> frames;
  (*mod)->symbolize(memcpy_sym->addr + 1, false, frames);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].is_go);
  EXPECT_EQ(frames[0].entry, memcpy_sym->addr);
  EXPECT_FALSE(frames[0].function.empty());
}

class ElfFileGoTest : public ::testing::TestWithParam<std::tuple<std::string, Variant>> {
 protected:
  void SetUp() override {
    auto [tc_name, variant] = GetParam();
    tc_ = testing::find_toolchain(tc_name);
    if (!tc_) GTEST_SKIP() << tc_name << " is not installed";
    variant_ = variant;
    bin_ = testing::build_target("callers_frames", *tc_, variant);
    ASSERT_FALSE(bin_.empty());
  }
  const testing::Toolchain* tc_ = nullptr;
  Variant variant_;
  std::string bin_;
};

TEST_P(ElfFileGoTest, HeadersSegmentsAndBuildIds) {
  auto elf = ElfFile::open(bin_);
  ASSERT_TRUE(elf) << elf.error().message();
  const ElfFile& e = **elf;
  EXPECT_EQ(e.machine(), EM_X86_64);
  EXPECT_EQ(e.is_pie(), variant_.pie);
  EXPECT_EQ(e.type(), variant_.pie ? ET_DYN : ET_EXEC);
  EXPECT_FALSE(e.segments().empty());
  auto pcln = e.find_section(".gopclntab");
  if (!pcln) pcln = e.find_section(".data.rel.ro.gopclntab");
  if (pcln) {
    auto b = e.read(pcln->addr, 64);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->data(), e.bytes().data() + pcln->offset);
  }
  EXPECT_FALSE(e.read(~uint64_t(0) - 16, 8));
  if (auto bss = e.find_section(".bss")) {
    auto r = e.read(bss->addr + bss->size - 8, 8);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  }
  std::string go_id = testing::run("env " + tc_->env + " " + tc_->go + " tool buildid '" + bin_ + "'");
  while (!go_id.empty() && go_id.back() == '\n') go_id.pop_back();
  EXPECT_EQ(e.go_build_id(), go_id);
  std::string readelf = testing::run("readelf -n '" + bin_ + "' 2>/dev/null");
  auto at = readelf.find("Build ID: ");
  if (at == std::string::npos) {
    EXPECT_EQ(e.gnu_build_id(), "");
  } else {
    EXPECT_EQ(e.gnu_build_id(), readelf.substr(at + 10, readelf.find('\n', at) - at - 10));
  }
  auto ns = NativeSymbols(*elf);
  EXPECT_EQ(ns.has_symtab(), !variant_.stripped);
}

TEST_P(ElfFileGoTest, TruncatedCopiesFailCleanly) {
  std::vector<uint8_t> bytes = slurp(bin_);
  ASSERT_GT(bytes.size(), 100000u);
  for (size_t n : {size_t(0), size_t(3), size_t(16), size_t(63), size_t(64), size_t(200), size_t(4096),
                   bytes.size() / 3, bytes.size() / 2, bytes.size() - 4096, bytes.size() - 1}) {
    auto elf = ElfFile::from_bytes(std::span<const uint8_t>(bytes.data(), n), "truncated");
    if (n < 64) {
      EXPECT_FALSE(elf) << n;
      continue;
    }
    if (elf) exercise(*elf);
  }
  // Through the file path too: truncated on disk.
  std::string p = tmp_path("truncated");
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size() / 2);
  auto elf = ElfFile::open(p);
  if (elf) exercise(*elf);
  std::filesystem::remove(p);
}

TEST_P(ElfFileGoTest, CorruptedCopiesNeverCrash) {
  const std::vector<uint8_t> orig = slurp(bin_);
  auto elf0 = ElfFile::from_bytes(orig, "orig");
  ASSERT_TRUE(elf0);
  auto tab0 = Pclntab::load(*elf0);
  ASSERT_TRUE(tab0);
  // Spots where corruption matters: ELF and program headers, the pclntab header and functab, pctab.
  uint64_t pcln_off = 0;
  for (const auto& s : (*elf0)->segments())
    if (s.type == PT_LOAD && (*tab0)->location().vaddr >= s.vaddr && (*tab0)->location().vaddr < s.vaddr + s.filesz)
      pcln_off = s.offset + ((*tab0)->location().vaddr - s.vaddr);
  ASSERT_NE(pcln_off, 0u);
  std::mt19937_64 rng(42);
  std::vector<uint8_t> bytes;
  for (int round = 0; round < 40; ++round) {
    bytes = orig;
    for (int k = 0; k < 16; ++k) {
      uint64_t region = rng() % 3;
      uint64_t pos = region == 0 ? rng() % 4096 : region == 1 ? pcln_off + rng() % 4096 : pcln_off + rng() % 400000;
      if (pos < bytes.size()) bytes[pos] = static_cast<uint8_t>(rng());
    }
    auto elf = ElfFile::from_bytes(bytes, "corrupted");
    if (elf) exercise(*elf);
  }
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, ElfFileGoTest,
                         ::testing::Combine(::testing::Values("go1.19", "go1.26", "go1.27.3"),
                                            ::testing::ValuesIn(testing::all_variants())),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" + std::get<1>(p.param).name();
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace goperf::symbolize

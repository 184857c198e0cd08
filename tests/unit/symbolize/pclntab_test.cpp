// Pclntab location, moduledata, text start and function table against the linker's own symbols (nm on
// the unstripped build), and against `go tool addr2line`, for every toolchain and variant.
#include "symbolize/pclntab.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "tests/unit/symbolize/go_targets.h"

namespace goperf::symbolize {
namespace {

using testing::Variant;

std::map<std::string, uint64_t> nm(const std::string& bin) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(testing::run("nm '" + bin + "' 2>/dev/null"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 20 || line[16] != ' ' || line[0] == ' ') continue;  // "U name" lines have no address
    out.emplace(line.substr(19), std::stoull(line.substr(0, 16), nullptr, 16));
  }
  return out;
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

class PclntabTest : public ::testing::TestWithParam<std::tuple<std::string, Variant>> {
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

TEST_P(PclntabTest, HeaderAndModuledataMatchLinkerSymbols) {
  auto mod = Module::open(bin_);
  ASSERT_TRUE(mod) << mod.error().message();
  const Pclntab* tab = (*mod)->pclntab();
  ASSERT_NE(tab, nullptr);
  EXPECT_EQ(tab->magic(), tc_->name == "go1.19" ? 0xfffffff0u : 0xfffffff1u);
  ASSERT_TRUE(tab->moduledata_vaddr());
  EXPECT_NE(tab->gofunc(), 0u);
  if (tab->location().source == Pclntab::Location::Source::kSection) {
    auto s = (*mod)->elf().find_section(tab->location().section);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->addr, tab->location().vaddr);
  }
  if (!variant_.stripped) {
    auto syms = nm(bin_);
    EXPECT_EQ(tab->text_start(), syms.at("runtime.text"));
    EXPECT_EQ(*tab->moduledata_vaddr(), syms.at("runtime.firstmoduledata"));
    EXPECT_EQ(tab->location().vaddr, syms.at("runtime.pclntab"));
    uint64_t gofunc = syms.count("go:func.*") ? syms.at("go:func.*") : syms.at("go.func.*");
    EXPECT_EQ(tab->gofunc(), gofunc);
    // Every Go function symbol is a pclntab function at the same address.
    const auto& fn = tab->find_func_by_name("main.main");
    ASSERT_TRUE(fn);
    EXPECT_EQ(fn->entry, syms.at("main.main"));
  }
  // Go 1.26+ keeps moduledata in its own section.
  if (tc_->name != "go1.19") {
    if (auto s = (*mod)->elf().find_section(".go.module")) {
      EXPECT_EQ(s->addr, *tab->moduledata_vaddr());
    }
  }
}

// The signal handler's functions have no funcID: their kinds come from their names, which the unwinder's
// signal-frame rule (unwind/signal_frame.cpp) then matches instead of names.
TEST_P(PclntabTest, SignalHandlerFunctionsHaveTheirKinds) {
  auto mod = Module::open(bin_);
  ASSERT_TRUE(mod);
  const Pclntab* tab = (*mod)->pclntab();
  ASSERT_NE(tab, nullptr);
  auto sigtramp = tab->find_func_by_name("runtime.sigtramp");
  ASSERT_TRUE(sigtramp);
  EXPECT_EQ(sigtramp->kind, FuncKind::kSigtramp);
  auto sigtrampgo = tab->find_func_by_name("runtime.sigtrampgo");
  ASSERT_TRUE(sigtrampgo);
  EXPECT_EQ(sigtrampgo->kind, FuncKind::kSigtrampgo);
  auto restorer = tab->find_func_by_name("runtime.sigreturn__sigaction");
  if (!restorer) restorer = tab->find_func_by_name("runtime.sigreturn");  // Go 1.19/1.20
  ASSERT_TRUE(restorer);
  EXPECT_EQ(restorer->kind, FuncKind::kSigreturn);
  auto main_main = tab->find_func_by_name("main.main");
  ASSERT_TRUE(main_main);
  EXPECT_EQ(main_main->kind, FuncKind::kNormal);
}

TEST_P(PclntabTest, EveryFunctionIsFoundByPcAndName) {
  auto mod = Module::open(bin_);
  ASSERT_TRUE(mod);
  const Pclntab* tab = (*mod)->pclntab();
  ASSERT_NE(tab, nullptr);
  ASSERT_GT(tab->func_count(), 1000u);
  size_t special = 0;
  for (size_t i = 0; i < tab->func_count(); ++i) {
    FuncInfo f = tab->func_at(i);
    ASSERT_FALSE(f.name.empty()) << i;
    ASSERT_LE(f.entry, f.end);
    if (f.entry == f.end) continue;  // zero-size markers share an entry with the next function
    auto at_entry = tab->find_func(f.entry);
    ASSERT_TRUE(at_entry);
    EXPECT_EQ(at_entry->entry, f.entry);
    auto at_end = tab->find_func(f.end - 1);
    ASSERT_TRUE(at_end);
    EXPECT_EQ(at_end->index, i);
    auto by_name = tab->find_func_by_name(f.name);
    ASSERT_TRUE(by_name) << f.name;
    EXPECT_EQ(by_name->name, f.name);
    special += f.kind != FuncKind::kNormal;
  }
  EXPECT_FALSE(tab->find_func(tab->text_start() - 1));
  EXPECT_FALSE(tab->find_func_by_name("main.no_such_function"));
  EXPECT_GT(special, 10u);
  for (auto [name, kind] : {std::pair{"runtime.goexit", FuncKind::kGoexit}, {"runtime.mstart", FuncKind::kMstart},
                            {"runtime.morestack", FuncKind::kMorestack}, {"runtime.sigpanic", FuncKind::kSigpanic},
                            {"runtime.systemstack", FuncKind::kSystemstack}, {"runtime.main", FuncKind::kRuntimeMain},
                            {"runtime.mcall", FuncKind::kMcall}, {"runtime.gopanic", FuncKind::kGopanic},
                            {"runtime.asyncPreempt", FuncKind::kAsyncPreempt}, {"main.main", FuncKind::kNormal}}) {
    auto f = tab->find_func_by_name(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(f->kind, kind) << name;
  }
  auto goexit = tab->find_func_by_name("runtime.goexit");
  EXPECT_TRUE(goexit->flag & Pclntab::kFlagTopFrame);
  // pcsp: 0 at a Go function's entry (nothing pushed yet), positive inside main.main's body.
  auto main_fn = tab->find_func_by_name("main.main");
  EXPECT_EQ(tab->sp_delta(*main_fn, main_fn->entry), 0);
  int32_t max_sp = 0;
  for (uint64_t pc = main_fn->entry; pc < main_fn->end; ++pc) max_sp = std::max(max_sp, tab->sp_delta(*main_fn, pc).value_or(0));
  EXPECT_GT(max_sp, 0);
  if (tc_->name != "go1.19") {
    EXPECT_GT(main_fn->start_line, 0);
  }
}

// `strip --strip-section-headers` and packers leave no section names: the header is found by scanning
// the segments, moduledata by its pointer, and every answer stays the same.
TEST_P(PclntabTest, WithoutSectionHeadersByScanning) {
  std::vector<uint8_t> bytes = slurp(bin_);
  ASSERT_GT(bytes.size(), sizeof(Elf64_Ehdr));
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(bytes.data());
  eh->e_shoff = 0;
  eh->e_shnum = 0;
  eh->e_shstrndx = 0;
  auto elf = ElfFile::from_bytes(bytes, "no-sections");
  ASSERT_TRUE(elf) << elf.error().message();
  EXPECT_TRUE((*elf)->sections().empty());
  auto mod = Module::from_elf(*elf);
  ASSERT_TRUE(mod);
  auto orig = Module::open(bin_);
  ASSERT_TRUE(orig);
  const Pclntab* a = (*orig)->pclntab();
  const Pclntab* b = (*mod)->pclntab();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->location().source, Pclntab::Location::Source::kScan);
  EXPECT_EQ(b->location().vaddr, a->location().vaddr);
  EXPECT_EQ(b->text_start(), a->text_start());
  EXPECT_EQ(b->moduledata_vaddr(), a->moduledata_vaddr());
  EXPECT_EQ(b->gofunc(), a->gofunc());
  std::mt19937_64 rng(7);
  FuncInfo first = a->func_at(0), last = a->func_at(a->func_count() - 1);
  for (int i = 0; i < 2000; ++i) {
    uint64_t pc = first.entry + rng() % (last.end - first.entry);
    std::vector<Frame> fa, fb;
    (*orig)->symbolize(pc, false, fa);
    (*mod)->symbolize(pc, false, fb);
    ASSERT_EQ(fa.size(), fb.size());
    for (size_t k = 0; k < fa.size(); ++k) {
      EXPECT_EQ(fa[k].function, fb[k].function);
      EXPECT_EQ(fa[k].line, fb[k].line);
    }
  }
  auto bi = (*mod)->build_info();
  ASSERT_NE(bi, nullptr);
  EXPECT_EQ(bi->main_path, "example.com/callers_frames");
}

// Physical function and innermost file:line equal `go tool addr2line` on the unstripped non-PIE build.
class GoAddr2lineTest : public PclntabTest {};

TEST_P(GoAddr2lineTest, EqualsGoToolAddr2line) {
  auto mod = Module::open(bin_);
  ASSERT_TRUE(mod);
  const Pclntab* tab = (*mod)->pclntab();
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < tab->func_count(); ++i) pcs.push_back(tab->func_at(i).entry);
  std::mt19937_64 rng(11);
  uint64_t lo = tab->func_at(0).entry, hi = tab->func_at(tab->func_count() - 1).end;
  for (int i = 0; i < 3000; ++i) pcs.push_back(lo + rng() % (hi - lo));
  std::string input;
  char buf[32];
  for (uint64_t pc : pcs) input += std::string(buf, std::snprintf(buf, sizeof buf, "%llx\n", (unsigned long long)pc));
  std::string in_path = std::string(GOPERF_BINARY_DIR) + "/unit-targets/a2l-input-" + tc_->name + variant_.name();
  std::ofstream(in_path) << input;
  int st = -1;
  std::string out = testing::run("env " + tc_->env + " " + tc_->go + " tool addr2line '" + bin_ + "' < '" + in_path + "'", &st);
  ASSERT_EQ(st, 0);
  std::istringstream ref(out);
  size_t mismatches = 0, compared = 0;
  for (uint64_t pc : pcs) {
    std::string fn, fl;
    ASSERT_TRUE(std::getline(ref, fn) && std::getline(ref, fl));
    if (fl.ends_with(":-1") || fn == "?") continue;  // padding between functions: no line there
    std::vector<Frame> frames;
    (*mod)->symbolize(pc, false, frames);
    std::string got_fn(frames.back().function);
    std::string got_fl = std::string(frames.front().file) + ":" + std::to_string(frames.front().line);
    ++compared;
    if (got_fn != fn || got_fl != fl) {
      if (++mismatches < 5) ADD_FAILURE() << std::hex << pc << ": want " << fn << " " << fl << ", got " << got_fn << " " << got_fl;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(compared, 3000u);
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, PclntabTest,
                         ::testing::Combine(::testing::Values("go1.19", "go1.26", "go1.27.3"),
                                            ::testing::ValuesIn(testing::all_variants())),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" + std::get<1>(p.param).name();
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

INSTANTIATE_TEST_SUITE_P(UnstrippedExe, GoAddr2lineTest,
                         ::testing::Combine(::testing::Values("go1.19", "go1.26", "go1.27.3"),
                                            ::testing::Values(Variant{false, false, false}, Variant{false, true, false})),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" + std::get<1>(p.param).name();
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace goperf::symbolize

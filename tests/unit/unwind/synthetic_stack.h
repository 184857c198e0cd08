// The synthetic-stack harness of the unwind tests: a real stripped Go binary (Debian's etcdctl, Go 1.19)
// mapped at its link-time addresses, so that the pclntab is real, and stack words made up per test so
// that each expected rule is exercised.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"
#include "unwind/address_space.h"
#include "unwind/memory.h"
#include "unwind/return_address.h"

namespace goperf::unwind {

constexpr const char* kBinary = "/usr/bin/etcdctl";
constexpr uint64_t kVdsoBase = 0x7ff000000000;

class WordMemory : public Memory {
 public:
  void put(uint64_t addr, uint64_t v) { words_[addr] = v; }
  // Zeroed words over [addr, addr + bytes): a struct the code under test reads whole (a g, an m).
  void zero(uint64_t addr, uint64_t bytes) {
    for (uint64_t a = addr; a < addr + bytes; a += 8) words_.emplace(a, 0);
  }
  // The bytes of [addr, addr + bytes), for a sampled stack copy (unmapped words read as 0).
  std::vector<uint8_t> bytes(uint64_t addr, uint64_t n) const {
    std::vector<uint8_t> out(n);
    for (uint64_t i = 0; i < n; i += 8) {
      auto it = words_.find(addr + i);
      uint64_t w = it == words_.end() ? 0 : it->second;
      std::memcpy(out.data() + i, &w, 8);
    }
    return out;
  }
  Status read(uint64_t addr, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      uint64_t a = addr + i;
      auto it = words_.find(a & ~uint64_t{7});
      if (it == words_.end()) return make_error(ErrorCode::kUnavailable, "unmapped");
      uint64_t w = it->second;
      out[i] = static_cast<uint8_t>(w >> (8 * (a & 7)));
    }
    return {};
  }

 private:
  std::map<uint64_t, uint64_t> words_;
};

class SyntheticStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " is not installed";
    auto m = symbolize::Module::open(kBinary);
    ASSERT_TRUE(m) << m.error().message();
    module_ = *m;
    tab_ = module_->pclntab();
    ASSERT_NE(tab_, nullptr);
    // Map the executable's segments at their link-time addresses (non-PIE: bias 0).
    std::vector<AddressSpace::FileMapping> files;
    for (const auto& s : module_->elf().segments()) {
      if (s.type != 1 /*PT_LOAD*/) continue;
      AddressSpace::FileMapping fm;
      fm.start = s.vaddr & ~0xfffull;
      fm.end = (s.vaddr + s.memsz + 0xfff) & ~0xfffull;
      fm.offset = s.offset & ~0xfffull;
      fm.path = kBinary;
      files.push_back(fm);
    }
    AddressSpace::FileMapping vdso;  // executable memory of no module, as the vDSO is to the walker
    vdso.start = kVdsoBase;
    vdso.end = kVdsoBase + 0x2000;
    vdso.path = "[vdso]";
    files.push_back(vdso);
    space_ = AddressSpace::from_file_mappings(files);
    space_->set_module(kBinary, module_);
  }

  symbolize::FuncInfo func(const char* name) {
    auto f = tab_->find_func_by_name(name);
    EXPECT_TRUE(f.has_value()) << name;
    return f.value_or(symbolize::FuncInfo{});
  }
  bool after_call(const symbolize::FuncInfo& f, uint64_t pc) {
    uint64_t len = std::min<uint64_t>(kMaxCallBytes, pc - f.entry);
    auto code = module_->elf().read(pc - len, len);
    return code && follows_call(Arch::kAmd64, *code);
  }
  // A return address into f (the pc after one of its calls) where the frame is largest, and that delta:
  // what a caller's frame holds on a real stack.
  std::pair<uint64_t, int32_t> body_pc(const symbolize::FuncInfo& f) {
    uint64_t best = 0;
    int32_t best_delta = -1;
    for (uint64_t pc = f.entry + 1; pc < f.end; ++pc) {
      auto d = tab_->sp_delta(f, pc);
      if (d && *d > best_delta && after_call(f, pc)) {
        best_delta = *d;
        best = pc;
      }
    }
    EXPECT_NE(best, 0u) << f.name << " has no call";
    return {best, best_delta};
  }
  // A pc in f's body, with a frame, that does not follow a call.
  uint64_t pc_not_after_call(const symbolize::FuncInfo& f) {
    for (uint64_t pc = f.entry + 1; pc < f.end; ++pc) {
      if (tab_->sp_delta(f, pc).value_or(0) > 0 && !after_call(f, pc)) return pc;
    }
    ADD_FAILURE() << f.name;
    return 0;
  }

  std::shared_ptr<const symbolize::Module> module_;
  const symbolize::Pclntab* tab_ = nullptr;
  std::unique_ptr<AddressSpace> space_;
};

}  // namespace goperf::unwind

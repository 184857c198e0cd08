// Module: one ELF file with its pclntab, build info and native symbols, each decoded on first use.
#include "symbolize/module.h"

#include <algorithm>
#include <mutex>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/frame_cache.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

struct Module::Impl {
  std::shared_ptr<const ElfFile> elf;
  mutable std::once_flag pclntab_once, build_info_once, native_once;
  mutable std::unique_ptr<Pclntab> pclntab;
  mutable std::unique_ptr<FrameCache> cache;  // with the pclntab
  mutable std::unique_ptr<BuildInfo> build_info;
  mutable std::unique_ptr<NativeSymbols> native;
};

Module::Module(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Module::~Module() = default;

Result<std::shared_ptr<const Module>> Module::open(const std::string& path) {
  auto elf = ElfFile::open(path);
  if (!elf) return elf.error();
  return from_elf(std::move(*elf));
}

Result<std::shared_ptr<const Module>> Module::from_elf(std::shared_ptr<const ElfFile> elf) {
  if (!elf) return make_error(ErrorCode::kInvalidArgument, "no ELF file");
  auto impl = std::make_unique<Impl>();
  impl->elf = std::move(elf);
  return std::shared_ptr<const Module>(new Module(std::move(impl)));
}

const ElfFile& Module::elf() const { return *impl_->elf; }
std::shared_ptr<const ElfFile> Module::elf_ptr() const { return impl_->elf; }

const Pclntab* Module::pclntab() const {
  std::call_once(impl_->pclntab_once, [this] {
    auto t = Pclntab::load(impl_->elf);
    if (!t) return;
    impl_->pclntab = std::move(*t);
    // About a quarter of the table's size, 256 to 8192 slots of 128 bytes: well inside the budget of
    // twice the pclntab for goperf's own memory.
    size_t slots = std::clamp<size_t>(impl_->pclntab->table_size() / 4 / 128, 256, 8192);
    auto bytes = impl_->elf->bytes();
    impl_->cache = std::make_unique<FrameCache>(slots, bytes.data(), bytes.size());
  });
  return impl_->pclntab.get();
}

const BuildInfo* Module::build_info() const {
  std::call_once(impl_->build_info_once, [this] {
    if (auto b = BuildInfo::read(*impl_->elf)) impl_->build_info = std::make_unique<BuildInfo>(std::move(*b));
  });
  return impl_->build_info.get();
}

const NativeSymbols& Module::native_symbols() const {
  std::call_once(impl_->native_once, [this] { impl_->native = std::make_unique<NativeSymbols>(impl_->elf); });
  return *impl_->native;
}

void Module::symbolize(uint64_t pc, bool is_return_address, std::vector<Frame>& out) const {
  // A return address points after the call; the call itself is at pc-1 (runtime.CallersFrames).
  uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
  if (const Pclntab* t = pclntab()) {
    if (impl_->cache->lookup(lookup, pc, out)) return;
    if (auto f = t->find_func(lookup)) {
      size_t first = out.size();
      t->frames(*f, lookup, out);
      for (size_t i = first; i < out.size(); ++i) out[i].pc = pc;
      impl_->cache->insert(lookup, std::span<const Frame>(out).subspan(first));
      return;
    }
  }
  Frame fr;
  fr.pc = pc;
  if (auto s = native_symbols().find(lookup)) {
    fr.function = s->name;
    fr.entry = s->addr;
  }
  out.push_back(fr);
}

}  // namespace goperf::symbolize

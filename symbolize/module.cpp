// Module: one ELF file with its pclntab, build info and native symbols, each decoded on first use.
#include "symbolize/module.h"

#include <mutex>

#include "symbolize/build_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/native_symbols.h"
#include "symbolize/pclntab.h"

namespace goperf::symbolize {

struct Module::Impl {
  std::shared_ptr<const ElfFile> elf;
  mutable std::once_flag pclntab_once, build_info_once, native_once;
  mutable std::unique_ptr<Pclntab> pclntab;
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
    if (auto t = Pclntab::load(impl_->elf)) impl_->pclntab = std::move(*t);
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
    if (auto f = t->find_func(lookup)) {
      size_t first = out.size();
      t->frames(*f, lookup, out);
      for (size_t i = first; i < out.size(); ++i) out[i].pc = pc;
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

// KernelSymbols: kernel text symbols from /proc/kallsyms, to name the kernel part of a sample's
// callchain. When kallsyms hides addresses (kernel.kptr_restrict) every kernel pc is "[kernel]".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace goperf::profiler {

class KernelSymbols {
 public:
  // Reads /proc/kallsyms (or `path`); an unreadable or address-less file gives an empty table.
  explicit KernelSymbols(const std::string& path = "/proc/kallsyms");
  // The symbol containing addr, or "[kernel]" when unknown.
  std::string_view name(uint64_t addr) const;
  bool readable() const { return !addrs_.empty(); }
  // Whether `path` shows addresses of text symbols (kernel.kptr_restrict lets root see them), from
  // its first lines only: cheap, unlike reading the whole table.
  static bool addresses_visible(const std::string& path = "/proc/kallsyms");

 private:
  std::vector<uint64_t> addrs_;  // sorted
  std::vector<std::string> names_;
};

}  // namespace goperf::profiler

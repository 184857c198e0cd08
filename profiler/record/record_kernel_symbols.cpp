// /proc/kallsyms: "ADDRESS TYPE NAME [module]" per line; only text symbols (t/T) name code.
#include "profiler/record/record_kernel_symbols.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace goperf::profiler {

KernelSymbols::KernelSymbols(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return;
  std::vector<std::pair<uint64_t, std::string>> syms;
  char line[512];
  while (std::fgets(line, sizeof(line), f)) {
    char* end = nullptr;
    uint64_t addr = std::strtoull(line, &end, 16);
    if (end == line || *end != ' ') continue;
    char type = end[1];
    if (type != 't' && type != 'T') continue;
    const char* name = end + 3;
    size_t len = std::strcspn(name, " \t\n");
    if (addr == 0) continue;  // hidden by kptr_restrict
    syms.emplace_back(addr, std::string(name, len));
  }
  std::fclose(f);
  std::sort(syms.begin(), syms.end());
  addrs_.reserve(syms.size());
  names_.reserve(syms.size());
  for (auto& [a, n] : syms) {
    addrs_.push_back(a);
    names_.push_back(std::move(n));
  }
}

bool KernelSymbols::addresses_visible(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  char line[512];
  bool visible = false;
  for (int i = 0; i < 1000 && std::fgets(line, sizeof(line), f); ++i) {
    char* end = nullptr;
    uint64_t addr = std::strtoull(line, &end, 16);
    if (end == line || *end != ' ' || (end[1] != 't' && end[1] != 'T')) continue;
    visible = addr != 0;
    break;
  }
  std::fclose(f);
  return visible;
}

std::string_view KernelSymbols::name(uint64_t addr) const {
  auto it = std::upper_bound(addrs_.begin(), addrs_.end(), addr);
  if (it == addrs_.begin()) return "[kernel]";
  return names_[static_cast<size_t>(it - addrs_.begin()) - 1];
}

}  // namespace goperf::profiler

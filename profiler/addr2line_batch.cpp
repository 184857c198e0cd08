// Addr2lineBatch: sort, answer each distinct address in address order, gather in input order.
#include "profiler/addr2line_batch.h"

#include <cstring>

#include "profiler/addr2line_options.h"
#include "symbolize/sorted_symbolizer.h"

namespace goperf::profiler {

namespace {
constexpr size_t kTypicalAnswer = 128;  // bytes: -f -i on etcd averages 100
}  // namespace

void Addr2lineBatch::add(std::string_view address) { addresses_.push_back(parse_gnu_address(address)); }

void Addr2lineBatch::add_lines(std::string_view text) {
  while (!text.empty()) {
    const void* nl = std::memchr(text.data(), '\n', text.size());
    size_t len = nl ? size_t(static_cast<const char*>(nl) - text.data()) : text.size();
    add(text.substr(0, len));
    text.remove_prefix(nl ? len + 1 : len);
  }
}

void Addr2lineBatch::answer() {
  size_t n = addresses_.size();
  order_.sort(addresses_);
  answers_.clear();
  spans_.resize(n);
  // Room for the typical answer up front: growing by doubling copies, and every new block is new
  // pages to fault in.
  answers_.reserve(n * kTypicalAnswer);
  out_.reserve(out_.size() + n * kTypicalAnswer);
  symbolize::SortedSymbolizer symbolizer(module_);
  for (size_t k = 0; k < n; ++k) {
    uint64_t address = order_.pc(k);
    uint32_t i = order_.position(k);
    if (k > 0 && order_.pc(k - 1) == address) {  // repeats share the first one's answer
      spans_[i] = spans_[order_.position(k - 1)];
      continue;
    }
    frames_.clear();
    // Addresses are looked up as given (binutils does not step back from return addresses).
    symbolizer.symbolize(address, false, frames_);
    size_t at = answers_.size();
    printer_.print(address, frames_, answers_);
    spans_[i] = {at, answers_.size() - at};
  }
  constexpr size_t kAhead = 16;  // answers are scattered over answers_: fetch the next ones early
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(answers_.data() + spans_[i + kAhead].first);
    out_.append(answers_, spans_[i].first, spans_[i].second);
  }
  addresses_.clear();
}

}  // namespace goperf::profiler

// DumpBuffer: the output buffer of the goroutine dump text. Formatting writes each frame through a raw
// pointer into room reserved once (no per-piece capacity checks or zero-filling, as std::string
// appends have), which is most of the cost of printing 100,000 goroutines.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace goperf::profiler {

class DumpBuffer {
 public:
  // Room for n more bytes; returns where to write them. Call commit() with the end of what was written.
  char* reserve(size_t n) {
    if (cap_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(const char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  void append(std::string_view s) { commit(put(reserve(s.size()), s)); }
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }

  static char* put(char* p, std::string_view s) {
    // Not memcpy: an empty view may hold a null data(), which memcpy must never get (C11 7.1.4), and
    // std::copy copies nothing then.
    return std::copy(s.begin(), s.end(), p);
  }
  static char* put(char* p, char c) {
    *p = c;
    return p + 1;
  }
  static char* put_hex(char* p, uint64_t v) {  // 0x..., at most 18 bytes
    p[0] = '0';
    p[1] = 'x';
    return put_hex_digits(p + 2, v);
  }
  // Lowercase hex digits without leading zeros, as std::to_chars writes them (two digits per step).
  static char* put_hex_digits(char* p, uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const int bits = v ? 64 - __builtin_clzll(v) : 1;
    char* end = p + (bits + 3) / 4;
    char* q = end;
    for (; v >= 0x100; v >>= 8) {
      *--q = kDigits[v & 15];
      *--q = kDigits[(v >> 4) & 15];
    }
    *--q = kDigits[v & 15];
    if (v >= 0x10) *--q = kDigits[v >> 4];
    return end;
  }
  template <typename T>
  static char* put_dec(char* p, T v) {  // at most 20 bytes
    return std::to_chars(p, p + 20, v).ptr;
  }

 private:
  void grow(size_t n) {
    size_t cap = std::max<size_t>({cap_ * 2, size_ + n, 1u << 16});
    auto data = std::make_unique<char[]>(cap);
    if (size_) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    cap_ = cap;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace goperf::profiler

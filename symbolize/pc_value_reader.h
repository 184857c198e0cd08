// PcValueReader: one pc-value table of the pclntab read forward, one run at a time
// (src/runtime/symtab.go step). Pclntab::pcvalue reads up to one pc; FuncLineTable merges whole tables.
#pragma once

#include <cstdint>

namespace goperf::symbolize {

// One step of a pc-value table: `value` holds from the previous run's end (the function's entry for
// the first run) up to `end`, exclusive.
struct PcValueRun {
  uint64_t end = 0;
  int32_t value = 0;
};

class PcValueReader {
 public:
  PcValueReader() = default;  // an absent table: no runs
  // The table at [p, end) of a function entered at `entry`; pcs advance by `quantum` per unit.
  PcValueReader(const uint8_t* p, const uint8_t* end, uint64_t entry, uint32_t quantum)
      : p_(p), end_(end), pc_(entry), quantum_(quantum) {}

  // The next run; false at the end of the table or on a malformed step (the runs before it stand).
  bool next(PcValueRun& run) {
    if (p_ >= end_) return false;
    if (*p_ == 0 && !first_) return false;  // end of table
    uint32_t uv, pcd;
    if (!varint(uv) || !varint(pcd)) {
      p_ = end_;
      return false;
    }
    first_ = false;
    val_ += int32_t(-(uv & 1) ^ (uv >> 1));
    pc_ += uint64_t(pcd) * quantum_;
    run = {pc_, val_};
    return true;
  }

 private:
  bool varint(uint32_t& v) {
    if (p_ < end_ && !(*p_ & 0x80)) {  // one byte: the common case
      v = *p_++;
      return true;
    }
    v = 0;
    for (uint32_t shift = 0;; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      v |= uint32_t(b & 0x7f) << (shift & 31);
      if (!(b & 0x80)) return true;
    }
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t pc_ = 0;
  int32_t val_ = -1;
  uint32_t quantum_ = 1;
  bool first_ = true;
};

}  // namespace goperf::symbolize

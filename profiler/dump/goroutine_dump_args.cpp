// printArgs of src/runtime/traceback.go (identical program format in Go 1.19 - 1.27; constants from
// src/internal/abi/type.go TraceArgs*).
#include "profiler/dump/goroutine_dump_args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "profiler/dump/goroutine_dump_buffer.h"
#include "symbolize/module.h"
#include "unwind/memory.h"

namespace goperf::profiler {

namespace {

constexpr uint8_t kEndSeq = 0xff, kStartAgg = 0xfe, kEndAgg = 0xfd, kDotdotdot = 0xfc, kOffsetTooLarge = 0xfb;

}  // namespace

void append_go_args(std::string& out, const GoArgsProgram& p, const unwind::Memory& memory, uint64_t argp) {
  const std::span<const uint8_t> prog = p.prog, live = p.live;
  const uint8_t start_offset = p.start_offset;
  auto is_live = [&](uint8_t off, uint8_t slot) {
    if (live.empty() || p.live_idx <= 0 || off < start_offset) return true;
    size_t i = static_cast<size_t>(p.live_idx) + slot / 8;
    return i < live.size() && (live[i] & (1u << (slot % 8))) != 0;
  };
  bool start = true;
  auto comma = [&] {
    if (!start) out += ", ";
  };
  // The whole area in one read when it is at hand (it is: the stack copy); else value by value.
  uint8_t area[0x100 + 8];
  const bool whole = p.extent != 0 && memory.read(argp, std::span<uint8_t>(area, p.extent));
  uint8_t slot = 0;
  size_t pi = 0;
  while (pi < prog.size()) {
    uint8_t o = prog[pi++];
    if (o == kEndSeq) break;
    switch (o) {
      case kStartAgg:
        comma();
        out += '{';
        start = true;
        continue;
      case kEndAgg:
        out += '}';
        break;
      case kDotdotdot:
        comma();
        out += "...";
        break;
      case kOffsetTooLarge:
        comma();
        out += '_';
        break;
      default: {
        comma();
        if (pi >= prog.size()) return;
        uint8_t sz = std::min<uint8_t>(prog[pi++], 8);
        uint64_t x = 0;
        if (whole ? (std::memcpy(&x, area + o, sz), true)
                  : static_cast<bool>(memory.read(argp + o, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&x), sz)))) {
          char buf[24];
          char* end = DumpBuffer::put_hex(buf, x);
          if (!is_live(o, slot)) *end++ = '?';
          out.append(buf, end);
        } else {
          out += '_';
        }
        if (o >= start_offset) ++slot;
      }
    }
    start = false;
  }
}

std::string format_go_args(const symbolize::Module& module, const symbolize::FuncInfo& f, uint64_t link_sym_pc,
                           const unwind::Memory& memory, uint64_t argp) {
  std::string out;
  append_go_args(out, go_args_program(module, f, link_sym_pc), memory, argp);
  return out;
}

}  // namespace goperf::profiler

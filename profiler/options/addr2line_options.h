// Addr2lineOptions: `goperf addr2line` command line, binutils addr2line's letters and long names.
// Parsing errors are thrown as boost::program_options::error (main.cpp turns them into exit code 2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/commands.h"

namespace goperf::profiler {

struct Addr2lineOptions {
  std::string binary;                  // -e, default "a.out" as in binutils
  bool addresses = false;              // -a: print each address before its frames
  bool functions = false;              // -f: print function names
  bool inlines = false;                // -i: print the inlined-by chain
  bool pretty = false;                 // -p: one line per frame, "func at file:line"
  bool basenames = false;              // -s: strip directories from file names
  bool demangle = false;               // -C: demangle C++ names of native code
  bool json = false;                   // --json: one JSON object per address, every inline level
  std::vector<std::string> addresses_in;  // addresses given as arguments; empty = read stdin
};

// Fills `options`; returns false after printing --help.
bool parse_addr2line_options(const Args& args, Addr2lineOptions& options);

// An address as binutils reads it (bfd_scan_vma, base 16): leading blanks, an optional 0x, then hex
// digits up to the first other character; anything unparsable is 0.
uint64_t parse_gnu_address(std::string_view text);
// parse_gnu_address of each line of `text`, appended to `out`; the last line may lack its newline.
void parse_gnu_address_lines(std::string_view text, std::vector<uint64_t>& out);

}  // namespace goperf::profiler

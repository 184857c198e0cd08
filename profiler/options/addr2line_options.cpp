// `goperf addr2line` options: the letters of binutils addr2line, so scripts can switch tools.
#include "profiler/options/addr2line_options.h"
#include "profiler/options/parse_or_help.h"

#include <boost/program_options.hpp>

#include <array>
#include <cstring>
#include <iostream>

namespace po = boost::program_options;

namespace goperf::profiler {

bool parse_addr2line_options(const Args& args, Addr2lineOptions& o) {
  po::options_description desc(
      "usage: goperf addr2line [-e BINARY] [-a] [-f] [-i] [-p] [-s] [-C] [ADDR...]\n\n"
      "Names the function, file and line of each address of a Go program, stripped or not, from its\n"
      "pclntab (and C code from ELF symbols), in binutils addr2line's output format. Addresses are hex\n"
      "(with or without 0x) link-time addresses, as binutils reads them also for PIE binaries. Without\n"
      "ADDR arguments, reads one address per line on stdin and answers each line as it arrives.\n\n"
      "options");
  desc.add_options()
      ("help,h", "show this help")
      ("exe,e", po::value<std::string>(&o.binary)->default_value("a.out"), "the executable (default a.out)")
      ("addresses,a", po::bool_switch(&o.addresses), "print each address before its location")
      ("functions,f", po::bool_switch(&o.functions), "print function names")
      ("inlines,i", po::bool_switch(&o.inlines), "print the functions the address is inlined into")
      ("pretty-print,p", po::bool_switch(&o.pretty), "one line per location: \"func at file:line\"")
      ("basenames,s", po::bool_switch(&o.basenames), "strip directories from file names")
      ("demangle,C", po::bool_switch(&o.demangle), "demangle C++ names of native (non-Go) code")
      ("json", po::bool_switch(&o.json), "one JSON object per address with every inline level (JSON Lines)");
  po::options_description hidden;
  hidden.add_options()("address", po::value<std::vector<std::string>>(&o.addresses_in), "");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("address", -1);
  po::variables_map vm;
  if (!parse_or_help(args, all, desc, &positional, vm)) return false;
  return true;
}

namespace {

// Hex digit values, 0xff for every other byte: one load per character instead of three range tests
// (addr2line over a file of a million addresses parses them all).
constexpr std::array<uint8_t, 256> kHexDigit = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = 0; c < 10; ++c) t['0' + c] = uint8_t(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = uint8_t(10 + c);
  return t;
}();

}  // namespace

uint64_t parse_gnu_address(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i + 1 < text.size() && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) i += 2;
  uint64_t value = 0;
  for (; i < text.size(); ++i) {
    uint8_t digit = kHexDigit[static_cast<unsigned char>(text[i])];
    if (digit == 0xff) break;
    value = (value << 4) | digit;
  }
  return value;
}

void parse_gnu_address_lines(std::string_view text, std::vector<uint64_t>& out) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    // parse_gnu_address on the line, without finding the line's end first: it is mostly right after
    // the digits.
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    if (end - p > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    uint64_t value = 0;
    for (; p < end; ++p) {
      uint8_t digit = kHexDigit[static_cast<unsigned char>(*p)];
      if (digit == 0xff) break;
      value = (value << 4) | digit;
    }
    out.push_back(value);
    if (p < end && *p != '\n') {
      const void* nl = std::memchr(p, '\n', size_t(end - p));
      p = nl ? static_cast<const char*>(nl) : end;
    }
    ++p;  // past the newline
  }
}

}  // namespace goperf::profiler

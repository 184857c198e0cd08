// A sequence of <number><unit> terms, as Go's time.ParseDuration reads them (src/time/format.go), plus
// the bare number of seconds goperf has always taken for -d.
#include "profiler/options/duration_text.h"

#include <cstdlib>
#include <string>

namespace goperf::profiler {
namespace {

struct Unit {
  std::string_view name;
  double seconds;
};

// Longest names first, so "ms" is not read as "m" followed by junk.
constexpr Unit kUnits[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
                           {"s", 1},     {"m", 60},    {"h", 3600}};

}  // namespace

std::optional<double> parse_duration_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  bool unitless = false;
  size_t terms = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) ++n;
    if (n == 0) return std::nullopt;
    const std::string number(text.substr(0, n));
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    text.remove_prefix(n);
    ++terms;
    if (text.empty()) {
      unitless = true;  // "30": seconds, alone only ("1m30" is refused, as Go refuses it)
      total += value;
      break;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(0, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->name.size());
    total += value * unit->seconds;
  }
  if (unitless && terms > 1) return std::nullopt;
  return total;
}

}  // namespace goperf::profiler

// libFuzzer target: BuildInfo::parse over arbitrary bytes (the .go.buildinfo blob: header, varint
// strings, modinfo lines). Seeds: .go.buildinfo sections of real Go binaries.
#include <cstddef>
#include <cstdint>
#include <span>

#include "symbolize/build_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace goperf::symbolize;
  auto bi = BuildInfo::parse(std::span<const uint8_t>(data, size));
  if (!bi) return 0;
  (void)bi->minor_version();
  (void)bi->setting("GOARCH");
  return 0;
}

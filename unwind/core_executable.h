// The executable of a core: where it was loaded (PIE bias) and whether a file on disk is the one that ran,
// compared by build id (the GNU and Go notes in the dumped first page, go-internals 7.5) or, when those pages
// were not dumped, by the .go.buildinfo bytes in the dumped data segment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "symbolize/result.h"

namespace goperf::symbolize {
class ElfFile;
}

namespace goperf::unwind {

class CoreMemory;

// Runtime address minus link-time address of the executable, from its NT_FILE mappings and PT_LOADs.
// nullopt when the core has no mapping of it.
std::optional<uint64_t> core_load_bias(const CoreMemory& memory, const symbolize::ElfFile& exe);

struct CoreMatch {
  enum class Verdict { kMatch, kMismatch, kUnknown };
  Verdict verdict = Verdict::kUnknown;
  std::string how;  // "Go build id abc/def", or what differs: "core has Go build id X, the file Y"
};

// Compares what the core holds of the executable (at `bias`) with the file.
CoreMatch match_core_executable(const CoreMemory& memory, const symbolize::ElfFile& exe, uint64_t bias);

}  // namespace goperf::unwind

// The executable's mappings of a core that has no NT_FILE note (cores written by qemu-user, which dumps
// PT_LOAD segments, threads and auxv but no file note; kernels before 3.7): rebuilt from the file's own
// PT_LOAD headers placed at the load bias that AT_ENTRY gives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "unwind/core_file.h"

namespace goperf::unwind {

// The mappings, as NT_FILE would list them, of the executable at `path` loaded so that its entry point is at
// `at_entry`. Empty when the file cannot be read as an ELF of `machine`.
std::vector<CoreMappedFile> executable_mappings_from_auxv(const std::string& path, uint16_t machine, uint64_t at_entry);

}  // namespace goperf::unwind

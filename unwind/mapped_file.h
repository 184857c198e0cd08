// MappedFile: the ELF file behind a mapping of a live process, opened through the process and shown to be
// the one mapped before anything is named from it. A deployed binary is replaced or deleted while its old
// process runs, and a container's files live in its own mount namespace: the path in /proc/PID/maps then
// names another file, or none, here.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "symbolize/result.h"
#include "unwind/mappings.h"

namespace goperf::symbolize {
class ElfFile;
class Module;
}  // namespace goperf::symbolize

namespace goperf::unwind {

class Memory;

// Where a live process's files are reached: its pid, the text of its /proc/PID/exe link (the same text
// as the executable's path in its maps, " (deleted)" included) and its memory (for the build-id check).
struct ProcessFiles {
  pid_t pid = 0;
  std::string exe_link;
  const Memory* memory = nullptr;
  std::string proc = "/proc";  // another proc mount (tests)
};

// Opens the file mapped by `m` (file-backed), trying in order: /proc/PID/map_files/START-END (the mapped
// inode itself; the kernel allows it to CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), /proc/PID/exe when m
// maps the executable (the inode exec'd), then /proc/PID/root + the path (the file there now). A file is
// used only when check_mapped_file accepts it. The Module is named by the path the process shows. On
// failure one message names every file tried and why each was not used.
Result<std::shared_ptr<const symbolize::Module>> open_mapped_module(const ProcessFiles& process, const Mapping& m);

// Whether the open file (its fstat, its ELF) is the one `m` maps: the same device and inode as the maps
// show, or else (an overlay or btrfs file shows another device through a path than in the maps) every
// build-id note of the file (GNU, Go) found byte for byte at its place in the process's memory. A file
// without a build id and of another device or inode cannot be shown to be the mapped one.
Status check_mapped_file(const struct stat& st, const symbolize::ElfFile& elf, const Mapping& m,
                         const Memory* memory);

// The load bias of `elf` mapped by `m`: runtime address - link-time address, from the PT_LOAD that
// holds the mapping's file offset.
uint64_t load_bias(const symbolize::ElfFile& elf, const Mapping& m);

}  // namespace goperf::unwind

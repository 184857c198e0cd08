// MappedFile: which file to read for a mapping of a live process, and the check that it is the mapped one.
// The kernel's side: fs/proc/base.c (map_files: proc_map_files_get_link, checkpoint_restore_ns_capable;
// exe: proc_exe_link), fs/proc/task_mmu.c (the device and inode a maps line shows).
#include "unwind/mapped_file.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/memory.h"

namespace goperf::unwind {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// As a maps line shows it (fs/proc/task_mmu.c: "%02x:%02x").
std::string identity(uint64_t major, uint64_t minor, uint64_t inode) {
  char dev[32];
  std::snprintf(dev, sizeof dev, "%02llx:%02llx", static_cast<unsigned long long>(major),
                static_cast<unsigned long long>(minor));
  return "inode " + std::to_string(inode) + " on device " + dev;
}

// The link-time address of a file offset, from the PT_LOAD that maps it.
bool vaddr_of_offset(const symbolize::ElfFile& elf, uint64_t offset, uint64_t& vaddr) {
  for (const auto& s : elf.segments()) {
    if (s.type == PT_LOAD && offset >= s.offset && offset - s.offset < s.filesz) {
      vaddr = s.vaddr + (offset - s.offset);
      return true;
    }
  }
  return false;
}

// Every build-id note of the file (GNU NT_GNU_BUILD_ID, Go's "Go" note 4) equals the process's bytes at
// the same place. The notes lie in a loaded segment, so the process maps them with the code.
Status check_build_ids(const symbolize::ElfFile& elf, const Mapping& m, const Memory* memory) {
  const uint64_t bias = load_bias(elf, m);
  int compared = 0;
  for (const auto& n : elf.notes()) {
    bool build_id = (n.owner == "GNU" && n.type == NT_GNU_BUILD_ID) || (n.owner == "Go" && n.type == 4);
    if (!build_id || n.desc.empty()) continue;
    uint64_t vaddr = 0;
    if (!vaddr_of_offset(elf, static_cast<uint64_t>(n.desc.data() - elf.bytes().data()), vaddr)) continue;
    if (memory == nullptr) return make_error(ErrorCode::kUnavailable, "the process's memory is not readable");
    std::vector<uint8_t> mapped(n.desc.size());
    if (auto st = memory->read(vaddr + bias, mapped); !st) {
      return make_error(ErrorCode::kUnavailable, "its build id could not be read in the process (" +
                                                     st.error().message() + ")");
    }
    if (std::memcmp(mapped.data(), n.desc.data(), mapped.size()) != 0)
      return make_error(ErrorCode::kFormat, "its " + std::string(n.owner) + " build id is not the mapped file's");
    ++compared;
  }
  if (compared == 0) return make_error(ErrorCode::kFormat, "it has no build id to compare");
  return {};
}

struct Attempt {
  std::string path;
  int fd = -1;
  std::string failure;  // why it was not used
};

// Opens one candidate; the Module only if it is the mapped file, else a.failure says why not.

Result<std::shared_ptr<const symbolize::Module>> try_open(Attempt& a, const Mapping& m, const Memory* memory) {
  a.fd = ::open(a.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (a.fd < 0) {
    a.failure = std::strerror(errno);
    return make_error(ErrorCode::kNotFound, a.failure);
  }
  struct stat st {};
  if (fstat(a.fd, &st) != 0) {
    a.failure = std::strerror(errno);
    ::close(a.fd);
    return make_error(ErrorCode::kIo, a.failure);
  }
  auto elf = symbolize::ElfFile::from_fd(a.fd, m.path);
  ::close(a.fd);
  if (!elf) {
    a.failure = elf.error().message();
    return std::move(elf).error();
  }
  if (auto ok = check_mapped_file(st, **elf, m, memory); !ok) {
    a.failure = "not the mapped file: " + ok.error().message();
    return std::move(ok).error();
  }
  return symbolize::Module::from_elf(std::move(*elf));
}

}  // namespace

uint64_t load_bias(const symbolize::ElfFile& elf, const Mapping& m) {
  for (const auto& s : elf.segments()) {
    if (s.type != PT_LOAD) continue;
    uint64_t seg_off = s.offset & ~uint64_t{0xfff};
    uint64_t seg_end = s.offset + std::max(s.filesz, uint64_t{1});
    if (m.offset >= seg_off && m.offset < seg_end) return m.start - (s.vaddr - s.offset + m.offset);
  }
  if (elf.type() == ET_EXEC) return 0;
  return m.start - m.offset;  // a mapping past the file-backed segments: assume vaddr == offset
}

Status check_mapped_file(const struct stat& st, const symbolize::ElfFile& elf, const Mapping& m,
                         const Memory* memory) {
  if (m.has_identity() && major(st.st_dev) == m.dev_major && minor(st.st_dev) == m.dev_minor &&
      static_cast<uint64_t>(st.st_ino) == m.inode)
    return {};
  auto same_build = check_build_ids(elf, m, memory);
  if (same_build) return {};
  std::string why = identity(major(st.st_dev), minor(st.st_dev), st.st_ino);
  if (m.has_identity()) why += ", the mapping's " + identity(m.dev_major, m.dev_minor, m.inode);
  return make_error(same_build.error().code(), why + ", and " + same_build.error().message());
}

Result<std::shared_ptr<const symbolize::Module>> open_mapped_module(const ProcessFiles& process, const Mapping& m) {
  const std::string dir = process.proc + "/" + std::to_string(process.pid);
  std::vector<Attempt> attempts;
  attempts.push_back({dir + "/map_files/" + hex(m.start) + "-" + hex(m.end)});
  if (!process.exe_link.empty() && process.exe_link == m.path) attempts.push_back({dir + "/exe"});
  attempts.push_back({dir + "/root" + m.display_path()});
  bool all_missing = true;
  for (auto& a : attempts) {
    auto module = try_open(a, m, process.memory);
    if (module) return module;
    all_missing = all_missing && module.error().code() == ErrorCode::kNotFound;
  }
  std::string tried;
  for (const auto& a : attempts) tried += (tried.empty() ? "" : "; ") + a.path + ": " + a.failure;
  return make_error(all_missing ? ErrorCode::kNotFound : ErrorCode::kFormat,
                    m.path + ": no file shown to be the one process " + std::to_string(process.pid) +
                        " maps (tried " + tried + ")");
}

}  // namespace goperf::unwind

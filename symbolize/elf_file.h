// ElfFile: a memory-mapped ELF file (executable, shared library or core), read through libelf.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "symbolize/result.h"

namespace goperf::symbolize {

class ElfFile {
 public:
  struct Segment {
    uint32_t type = 0;   // PT_*
    uint32_t flags = 0;  // PF_*
    uint64_t vaddr = 0, memsz = 0, offset = 0, filesz = 0, align = 0;
  };
  struct Section {
    std::string_view name;
    uint32_t type = 0;  // SHT_*
    uint64_t flags = 0, addr = 0, offset = 0, size = 0;
    uint32_t link = 0;  // sh_link: a section index (1-based: sections()[link - 1])
  };
  struct Note {
    std::string_view owner;  // "GNU", "Go", "CORE", "LINUX"
    uint32_t type = 0;
    std::span<const uint8_t> desc;
  };

  // Maps the file read-only. Errors name the path: missing, unreadable, a directory, not ELF, truncated.
  static Result<std::shared_ptr<const ElfFile>> open(const std::string& path);
  // Maps the open regular file `fd` (the caller still closes it), named `name` in messages and path().
  static Result<std::shared_ptr<const ElfFile>> from_fd(int fd, std::string name);
  // Over bytes the caller keeps alive (fuzzing, tests).
  static Result<std::shared_ptr<const ElfFile>> from_bytes(std::span<const uint8_t> bytes, std::string name);
  ~ElfFile();
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  const std::string& path() const;
  std::span<const uint8_t> bytes() const;  // the whole mapped file; valid while this object lives
  // bytes()[offset, offset + size) clipped to the file (empty past its end): headers may lie.
  std::span<const uint8_t> file_bytes(uint64_t offset, uint64_t size) const;
  uint16_t type() const;                   // ET_EXEC, ET_DYN, ET_CORE
  uint16_t machine() const;                // EM_X86_64, EM_AARCH64
  uint64_t entry() const;
  bool is_pie() const;                     // ET_DYN with an entry point

  const std::vector<Segment>& segments() const;
  // Empty when section headers were stripped; sections()[i] is ELF section index i + 1.
  const std::vector<Section>& sections() const;
  std::optional<Section> find_section(std::string_view name) const;
  std::vector<Note> notes() const;               // from PT_NOTE segments (or SHT_NOTE sections)

  // Bytes at a link-time virtual address, from the file-backed part of a PT_LOAD segment.
  // Fails (kUnavailable) past the file-backed part (.bss) or outside every segment.
  Result<std::span<const uint8_t>> read(uint64_t vaddr, uint64_t size) const;

  std::string gnu_build_id() const;  // hex, "" when absent
  std::string go_build_id() const;   // the .note.go.buildid string, "" when absent

 private:
  struct Impl;
  explicit ElfFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::symbolize

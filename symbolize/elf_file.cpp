// ElfFile: the file is mapped once; libelf parses the headers, and goperf keeps its own flat copies of
// segments and sections so that lookups never go back through libelf.
#include "symbolize/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace goperf::symbolize {

namespace {

std::once_flag g_elf_version_once;

void init_libelf() {
  std::call_once(g_elf_version_once, [] { elf_version(EV_CURRENT); });
}

// Reads the notes of one PT_NOTE segment or SHT_NOTE section. `align` is 4 or 8 (the .note.gnu.property
// section is 8-aligned); malformed notes end the walk without an error.
void parse_notes(std::span<const uint8_t> data, uint64_t align, std::vector<ElfFile::Note>& out) {
  if (align != 8) align = 4;
  size_t pos = 0;
  auto round = [align](uint64_t v) { return (v + align - 1) & ~(align - 1); };
  while (pos + 12 <= data.size()) {
    uint32_t namesz, descsz, type;
    std::memcpy(&namesz, data.data() + pos, 4);
    std::memcpy(&descsz, data.data() + pos + 4, 4);
    std::memcpy(&type, data.data() + pos + 8, 4);
    uint64_t name_off = pos + 12;
    uint64_t desc_off = name_off + round(namesz);
    uint64_t next = desc_off + round(descsz);
    if (desc_off > data.size() || desc_off + descsz > data.size()) break;
    ElfFile::Note n;
    const char* name = reinterpret_cast<const char*>(data.data() + name_off);
    size_t len = namesz;
    while (len > 0 && name[len - 1] == '\0') --len;
    n.owner = std::string_view(name, len);
    n.type = type;
    n.desc = data.subspan(desc_off, descsz);
    out.push_back(n);
    if (next <= pos) break;
    pos = next;
  }
}

}  // namespace

struct ElfFile::Impl {
  std::string path;
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool mapped = false;  // we own an mmap of `size` bytes at `data`
  Elf* elf = nullptr;
  uint16_t type = 0, machine = 0;
  uint64_t entry = 0;
  std::vector<Segment> segments;
  std::vector<Section> sections;

  ~Impl() {
    if (elf) elf_end(elf);
    if (mapped && data) munmap(const_cast<uint8_t*>(data), size);
  }

  Status parse() {
    init_libelf();
    if (size < EI_NIDENT || std::memcmp(data, ELFMAG, SELFMAG) != 0)
      return make_error(ErrorCode::kFormat, path + ": not an ELF file");
    if (data[EI_CLASS] != ELFCLASS64 && data[EI_CLASS] != ELFCLASS32)
      return make_error(ErrorCode::kFormat, path + ": unknown ELF class");
    size_t ehdr_size = data[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (size < ehdr_size) return make_error(ErrorCode::kTruncated, path + ": truncated ELF header");
    // elf_memory only reads the image (ELF_C_READ_MMAP semantics); the const_cast is libelf's old API.
    elf = elf_memory(reinterpret_cast<char*>(const_cast<uint8_t*>(data)), size);
    if (!elf || elf_kind(elf) != ELF_K_ELF)
      return make_error(ErrorCode::kFormat, path + ": not an ELF file (" + elf_errmsg(-1) + ")");
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf, &ehdr))
      return make_error(ErrorCode::kFormat, path + ": bad ELF header (" + elf_errmsg(-1) + ")");
    type = ehdr.e_type;
    machine = ehdr.e_machine;
    entry = ehdr.e_entry;

    size_t phnum = 0;
    if (elf_getphdrnum(elf, &phnum) == 0) {
      for (size_t i = 0; i < phnum; ++i) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, static_cast<int>(i), &ph)) break;
        Segment s;
        s.type = ph.p_type;
        s.flags = ph.p_flags;
        s.vaddr = ph.p_vaddr;
        s.memsz = ph.p_memsz;
        s.offset = ph.p_offset;
        s.filesz = ph.p_filesz;
        s.align = ph.p_align;
        // A truncated file keeps the segments, but only the bytes actually present are readable.
        if (s.offset > size) s.filesz = 0;
        else if (s.filesz > size - s.offset) s.filesz = size - s.offset;
        if (s.filesz > s.memsz && s.type == PT_LOAD) s.filesz = s.memsz;
        segments.push_back(s);
      }
    }

    size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
      for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) break;
        Section s;
        const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
        s.name = name ? std::string_view(name) : std::string_view();
        s.type = sh.sh_type;
        s.flags = sh.sh_flags;
        s.addr = sh.sh_addr;
        s.offset = sh.sh_offset;
        s.size = sh.sh_size;
        s.link = sh.sh_link;
        if (s.type != SHT_NOBITS) {
          if (s.offset > size) s.size = 0;
          else if (s.size > size - s.offset) s.size = size - s.offset;
        }
        sections.push_back(s);
      }
    }
    elf_errno();  // clear any error left by optional parts
    return {};
  }
};

ElfFile::ElfFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ElfFile::~ElfFile() = default;

Result<std::shared_ptr<const ElfFile>> ElfFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    ErrorCode code = e == ENOENT ? ErrorCode::kNotFound
                     : (e == EACCES || e == EPERM) ? ErrorCode::kPermission
                                                   : ErrorCode::kIo;
    return make_error(code, path + ": " + std::strerror(e));
  }
  auto elf = from_fd(fd, path);
  ::close(fd);
  return elf;
}

Result<std::shared_ptr<const ElfFile>> ElfFile::from_fd(int fd, std::string name) {
  const std::string& path = name;
  struct stat st;
  if (fstat(fd, &st) != 0) return make_error(ErrorCode::kIo, path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, path + ": is a directory");
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, path + ": not a regular file");
  if (st.st_size == 0) return make_error(ErrorCode::kFormat, path + ": empty file, not an ELF file");
  size_t size = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return make_error(ErrorCode::kIo, path + ": mmap: " + std::strerror(errno));
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(name);
  impl->data = static_cast<const uint8_t*>(p);
  impl->size = size;
  impl->mapped = true;
  if (auto st2 = impl->parse(); !st2) return st2.error();
  return std::shared_ptr<const ElfFile>(new ElfFile(std::move(impl)));
}

Result<std::shared_ptr<const ElfFile>> ElfFile::from_bytes(std::span<const uint8_t> bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(name);
  impl->data = bytes.data();
  impl->size = bytes.size();
  if (auto st = impl->parse(); !st) return st.error();
  return std::shared_ptr<const ElfFile>(new ElfFile(std::move(impl)));
}

const std::string& ElfFile::path() const { return impl_->path; }
std::span<const uint8_t> ElfFile::bytes() const { return {impl_->data, impl_->size}; }

std::span<const uint8_t> ElfFile::file_bytes(uint64_t offset, uint64_t size) const {
  if (offset >= impl_->size) return {};
  return {impl_->data + offset, std::min<uint64_t>(size, impl_->size - offset)};
}
uint16_t ElfFile::type() const { return impl_->type; }
uint16_t ElfFile::machine() const { return impl_->machine; }
uint64_t ElfFile::entry() const { return impl_->entry; }
bool ElfFile::is_pie() const { return impl_->type == ET_DYN && impl_->entry != 0; }
const std::vector<ElfFile::Segment>& ElfFile::segments() const { return impl_->segments; }
const std::vector<ElfFile::Section>& ElfFile::sections() const { return impl_->sections; }

std::optional<ElfFile::Section> ElfFile::find_section(std::string_view name) const {
  for (const auto& s : impl_->sections)
    if (s.name == name) return s;
  return std::nullopt;
}

std::vector<ElfFile::Note> ElfFile::notes() const {
  // PT_NOTE segments (all a core has), plus SHT_NOTE sections outside them: Go 1.26's internal linker
  // covers only .note.go.buildid with its PT_NOTE and leaves .note.gnu.build-id to the section.
  std::vector<Note> out;
  std::vector<std::pair<uint64_t, uint64_t>> covered;
  for (const auto& s : impl_->segments) {
    if (s.type != PT_NOTE) continue;
    covered.emplace_back(s.offset, s.offset + s.filesz);
    parse_notes(file_bytes(s.offset, s.filesz), s.align, out);
  }
  for (const auto& s : impl_->sections) {
    if (s.type != SHT_NOTE) continue;
    bool inside = false;
    for (auto [lo, hi] : covered) inside |= s.offset >= lo && s.offset + s.size <= hi;
    if (!inside) parse_notes(file_bytes(s.offset, s.size), 4, out);
  }
  return out;
}

Result<std::span<const uint8_t>> ElfFile::read(uint64_t vaddr, uint64_t size) const {
  for (const auto& s : impl_->segments) {
    if (s.type != PT_LOAD || vaddr < s.vaddr || vaddr - s.vaddr >= s.memsz) continue;
    uint64_t off = vaddr - s.vaddr;
    if (off > s.filesz || size > s.filesz - off)
      return make_error(ErrorCode::kUnavailable, "address past the file-backed part of its segment");
    return file_bytes(s.offset + off, size);
  }
  return make_error(ErrorCode::kUnavailable, "address outside every loadable segment");
}

std::string ElfFile::gnu_build_id() const {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const auto& n : notes()) {
    if (n.owner != "GNU" || n.type != NT_GNU_BUILD_ID) continue;
    std::string hex;
    hex.reserve(n.desc.size() * 2);
    for (uint8_t b : n.desc) {
      hex.push_back(kHex[b >> 4]);
      hex.push_back(kHex[b & 15]);
    }
    return hex;
  }
  return "";
}

std::string ElfFile::go_build_id() const {
  for (const auto& n : notes()) {
    if (n.owner != "Go" || n.type != 4) continue;
    std::string_view s(reinterpret_cast<const char*>(n.desc.data()), n.desc.size());
    while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
    return std::string(s);
  }
  return "";
}

}  // namespace goperf::symbolize

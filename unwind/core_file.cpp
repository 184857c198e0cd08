// CoreFile: parses an ELF core's PT_LOAD segments and notes. Note layouts mirror the kernel's
// fs/binfmt_elf.c (fill_note_info, fill_files_note) and include/uapi/linux/elfcore.h.
#include "unwind/core_file.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "symbolize/elf_file.h"
#include "unwind/core_decompress.h"
#include "unwind/core_executable_mappings.h"

namespace goperf::unwind {
namespace {

constexpr uint32_t kNtPrstatus = 1;
constexpr uint32_t kNtPrpsinfo = 3;
constexpr uint32_t kNtAuxv = 6;
constexpr uint32_t kNtFile = 0x46494c45;
constexpr uint32_t kNtSiginfo = 0x53494749;
constexpr uint32_t kNtArmTls = 0x401;

// elf_prstatus: pr_pid at 32, pr_cursig at 12, pr_reg at 112 on both amd64 and arm64.
constexpr size_t kPrCursig = 12, kPrPid = 32, kPrReg = 112;
constexpr size_t kAmd64Regs = 27, kArm64Regs = 34;

template <typename T>
T load(std::span<const uint8_t> b, size_t off) {
  T v{};
  if (off + sizeof(T) <= b.size()) std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

std::string cstring(std::span<const uint8_t> b, size_t off, size_t max) {
  if (off >= b.size()) return {};
  max = std::min(max, b.size() - off);
  const char* p = reinterpret_cast<const char*>(b.data() + off);
  return std::string(p, strnlen(p, max));
}

// A read-only mapping of a whole file, unmapped on destruction.
struct FileMap {
  const uint8_t* data = nullptr;
  size_t size = 0;
  ~FileMap() {
    if (data != nullptr && size != 0) ::munmap(const_cast<uint8_t*>(data), size);
  }
};

Result<std::unique_ptr<FileMap>> map_fd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::kIo, path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, path + ": is a directory");
  auto m = std::make_unique<FileMap>();
  if (st.st_size == 0) return make_error(ErrorCode::kFormat, path + ": empty file, not a core");
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return make_error(ErrorCode::kIo, path + ": mmap: " + std::strerror(errno));
  // Goroutine walks touch a page here and there: no readahead, no fault-around of neighbouring pages.
  ::madvise(p, static_cast<size_t>(st.st_size), MADV_RANDOM);
  m->data = static_cast<const uint8_t*>(p);
  m->size = static_cast<size_t>(st.st_size);
  return m;
}

}  // namespace

struct CoreFile::Impl {
  std::string path;
  const char* compression = nullptr;
  std::unique_ptr<FileMap> compressed, map;  // owned mappings (empty for from_bytes)
  std::span<const uint8_t> bytes;
  std::shared_ptr<const symbolize::ElfFile> elf;
  Arch arch = Arch::kAmd64;
  std::vector<CoreSegment> segments;
  std::vector<CoreThread> threads;
  std::vector<CoreMappedFile> files;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
  CoreSignal signal;
  CoreProcessInfo process;
  std::string execfn;
  std::string executable;  // the caller's file of the program, for a core without NT_FILE

  Status parse();
  void rebuild_executable_mappings();
  void parse_prstatus(std::span<const uint8_t> d);
  void parse_file_note(std::span<const uint8_t> d);
};

Status CoreFile::Impl::parse() {
  auto elf_or = symbolize::ElfFile::from_bytes(bytes, path);
  if (!elf_or) return std::move(elf_or).error();
  elf = std::move(*elf_or);
  if (elf->type() != ET_CORE) {
    const char* what = elf->type() == ET_EXEC ? "an executable" : elf->type() == ET_DYN ? "a shared object or PIE executable"
                                                                                         : "an ELF file";
    return make_error(ErrorCode::kFormat, path + ": not a core file (it is " + what + ")");
  }
  if (elf->machine() == EM_X86_64) {
    arch = Arch::kAmd64;
  } else if (elf->machine() == EM_AARCH64) {
    arch = Arch::kArm64;
  } else {
    return make_error(ErrorCode::kUnsupported,
                      path + ": core of an unsupported machine (e_machine " + std::to_string(elf->machine()) + ")");
  }
  for (const auto& s : elf->segments()) {
    if (s.type != PT_LOAD) continue;
    if (s.filesz > s.memsz) return make_error(ErrorCode::kFormat, path + ": PT_LOAD with p_filesz > p_memsz");
    if (s.offset > bytes.size() || s.filesz > bytes.size() - s.offset) {
      char buf[160];
      std::snprintf(buf, sizeof buf, ": truncated core: the segment at 0x%llx needs file bytes up to %llu, the file has %zu",
                    static_cast<unsigned long long>(s.vaddr), static_cast<unsigned long long>(s.offset + s.filesz),
                    bytes.size());
      return make_error(ErrorCode::kTruncated, path + buf);
    }
    segments.push_back({s.vaddr, s.memsz, s.offset, s.filesz, s.flags});
  }
  std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) { return a.vaddr < b.vaddr; });

  for (const auto& n : elf->notes()) {
    if (n.owner == "CORE") {
      switch (n.type) {
        case kNtPrstatus: parse_prstatus(n.desc); break;
        case kNtPrpsinfo:
          process.present = n.desc.size() >= 136;
          if (process.present) {
            process.uid = load<uint32_t>(n.desc, 16);
            process.gid = load<uint32_t>(n.desc, 20);
            process.pid = load<uint32_t>(n.desc, 24);
            process.ppid = load<uint32_t>(n.desc, 28);
            process.fname = cstring(n.desc, 40, 16);
            process.psargs = cstring(n.desc, 56, 80);
          }
          break;
        case kNtAuxv:
          for (size_t off = 0; off + 16 <= n.desc.size(); off += 16) {
            uint64_t type = load<uint64_t>(n.desc, off);
            if (type == 0) break;  // AT_NULL
            auxv.emplace_back(type, load<uint64_t>(n.desc, off + 8));
          }
          break;
        case kNtFile: parse_file_note(n.desc); break;
        case kNtSiginfo:
          if (n.desc.size() >= 24) {
            signal.present = true;
            signal.signo = load<int32_t>(n.desc, 0);
            signal.err = load<int32_t>(n.desc, 4);
            signal.code = load<int32_t>(n.desc, 8);
            signal.addr = load<uint64_t>(n.desc, 16);
          }
          break;
        default: break;
      }
    } else if (n.owner == "LINUX" && n.type == kNtArmTls && arch == Arch::kArm64 && !threads.empty()) {
      threads.back().regs.tls_base = load<uint64_t>(n.desc, 0);  // follows its thread's NT_PRSTATUS
    }
  }
  if (threads.empty()) return make_error(ErrorCode::kFormat, path + ": core without NT_PRSTATUS notes (no threads)");
  rebuild_executable_mappings();
  return {};
}

// AT_EXECFN points at the path the program was started with, on its dumped initial stack; a core without
// NT_FILE (qemu-user) gets its executable's mappings from that file, or from the one the caller names.
void CoreFile::Impl::rebuild_executable_mappings() {
  std::optional<uint64_t> at_execfn, at_entry;
  for (const auto& [type, value] : auxv) {
    if (type == AT_EXECFN) at_execfn = value;
    if (type == AT_ENTRY) at_entry = value;
  }
  if (at_execfn) {
    for (const auto& s : segments) {
      if (*at_execfn < s.vaddr || *at_execfn - s.vaddr >= s.filesz) continue;
      execfn = cstring(bytes.subspan(s.offset, s.filesz), *at_execfn - s.vaddr, 4096);
      break;
    }
  }
  if (!files.empty() || !at_entry) return;
  files = executable_mappings_from_auxv(executable.empty() ? execfn : executable, elf->machine(), *at_entry);
}

void CoreFile::Impl::parse_prstatus(std::span<const uint8_t> d) {
  size_t nregs = arch == Arch::kAmd64 ? kAmd64Regs : kArm64Regs;
  if (d.size() < kPrReg + nregs * 8) return;
  CoreThread t;
  t.tid = load<uint32_t>(d, kPrPid);
  t.cursig = load<int16_t>(d, kPrCursig);
  t.raw_regs.resize(nregs);
  for (size_t i = 0; i < nregs; i++) t.raw_regs[i] = load<uint64_t>(d, kPrReg + i * 8);
  t.regs.arch = arch;
  if (arch == Arch::kAmd64) {
    // user_regs_struct: arch/x86/include/asm/user_64.h.
    t.regs.pc = t.raw_regs[16];
    t.regs.sp = t.raw_regs[19];
    t.regs.fp = t.raw_regs[4];
    t.regs.g = t.raw_regs[1];  // r14 holds g in ABIInternal code
    t.regs.tls_base = t.raw_regs[21];
  } else {
    // user_pt_regs: x0..x30, sp, pc, pstate.
    t.regs.pc = t.raw_regs[32];
    t.regs.sp = t.raw_regs[31];
    t.regs.fp = t.raw_regs[29];
    t.regs.lr = t.raw_regs[30];
    t.regs.g = t.raw_regs[28];
  }
  threads.push_back(std::move(t));
}

void CoreFile::Impl::parse_file_note(std::span<const uint8_t> d) {
  uint64_t count = load<uint64_t>(d, 0);
  uint64_t page = load<uint64_t>(d, 8);
  if (d.size() < 16 || count > (d.size() - 16) / 24) return;
  size_t names = 16 + count * 24;
  for (uint64_t i = 0; i < count && names < d.size(); i++) {
    CoreMappedFile f;
    f.start = load<uint64_t>(d, 16 + i * 24);
    f.end = load<uint64_t>(d, 24 + i * 24);
    f.file_offset = load<uint64_t>(d, 32 + i * 24) * page;
    f.path = cstring(d, names, d.size() - names);
    names += f.path.size() + 1;
    if (f.end > f.start) files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
}

CoreFile::CoreFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CoreFile::~CoreFile() = default;

Result<std::shared_ptr<const CoreFile>> CoreFile::open(const std::string& path, const std::string& executable) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ErrorCode code = errno == ENOENT ? ErrorCode::kNotFound : errno == EACCES ? ErrorCode::kPermission : ErrorCode::kIo;
    return make_error(code, path + ": " + std::strerror(errno));
  }
  auto mapped = map_fd(fd, path);
  ::close(fd);
  if (!mapped) return std::move(mapped).error();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  CoreCompression c = detect_core_compression({(*mapped)->data, (*mapped)->size});
  if (c != CoreCompression::kNone) {
    auto out = decompress_core_to_fd(c, {(*mapped)->data, (*mapped)->size}, path);
    if (!out) return std::move(out).error();
    auto plain = map_fd(*out, path + " (decompressed)");
    ::close(*out);
    if (!plain) return std::move(plain).error();
    impl->compression = core_compression_name(c);
    impl->map = std::move(*plain);
  } else {
    impl->map = std::move(*mapped);
  }
  impl->bytes = {impl->map->data, impl->map->size};
  impl->executable = executable;
  if (auto s = impl->parse(); !s) return std::move(s).error();
  return std::shared_ptr<const CoreFile>(new CoreFile(std::move(impl)));
}

Result<std::shared_ptr<const CoreFile>> CoreFile::from_bytes(std::span<const uint8_t> bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(name);
  impl->bytes = bytes;
  if (bytes.empty()) return make_error(ErrorCode::kFormat, impl->path + ": empty file, not a core");
  if (auto s = impl->parse(); !s) return std::move(s).error();
  return std::shared_ptr<const CoreFile>(new CoreFile(std::move(impl)));
}

const std::string& CoreFile::path() const { return impl_->path; }
const char* CoreFile::compression() const { return impl_->compression; }
Arch CoreFile::arch() const { return impl_->arch; }
const symbolize::ElfFile& CoreFile::elf() const { return *impl_->elf; }
const std::vector<CoreSegment>& CoreFile::segments() const { return impl_->segments; }
const std::vector<CoreThread>& CoreFile::threads() const { return impl_->threads; }
const std::vector<CoreMappedFile>& CoreFile::mapped_files() const { return impl_->files; }
const std::string& CoreFile::execfn() const { return impl_->execfn; }
const std::vector<std::pair<uint64_t, uint64_t>>& CoreFile::auxv() const { return impl_->auxv; }
const CoreSignal& CoreFile::signal() const { return impl_->signal; }
const CoreProcessInfo& CoreFile::process() const { return impl_->process; }

std::optional<uint64_t> CoreFile::auxv_value(uint64_t type) const {
  for (const auto& [t, v] : impl_->auxv)
    if (t == type) return v;
  return std::nullopt;
}

const CoreThread* CoreFile::crashing_thread() const {
  for (const auto& t : impl_->threads)
    if (t.cursig != 0) return &t;
  return impl_->threads.empty() ? nullptr : &impl_->threads.front();
}

std::span<const uint8_t> CoreFile::dumped_at(uint64_t addr) const {
  const auto& segs = impl_->segments;
  auto it = std::upper_bound(segs.begin(), segs.end(), addr, [](uint64_t a, const CoreSegment& s) { return a < s.vaddr; });
  if (it == segs.begin()) return {};
  --it;
  if (addr - it->vaddr >= it->filesz) return {};
  uint64_t off = addr - it->vaddr;
  return impl_->bytes.subspan(it->offset + off, it->filesz - off);
}

Result<std::span<const uint8_t>> CoreFile::read(uint64_t addr, uint64_t size) const {
  auto d = dumped_at(addr);
  if (d.size() < size) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "0x%llx (%llu bytes) is not in the core", static_cast<unsigned long long>(addr),
                  static_cast<unsigned long long>(size));
    return make_error(ErrorCode::kUnavailable, buf);
  }
  return d.first(size);
}

void CoreFile::release_pages() const {
  // Only mappings this object made: bytes lent by the caller (from_bytes) are left alone.
  if (!impl_->map || impl_->map->data == nullptr) return;
  ::madvise(const_cast<uint8_t*>(impl_->map->data), impl_->map->size, MADV_DONTNEED);
}

const CoreMappedFile* CoreFile::executable_mapping() const {
  for (uint64_t type : {uint64_t{AT_ENTRY}, uint64_t{AT_PHDR}}) {
    auto v = auxv_value(type);
    if (!v) continue;
    for (const auto& f : impl_->files)
      if (*v >= f.start && *v < f.end) return &f;
  }
  return nullptr;
}

}  // namespace goperf::unwind

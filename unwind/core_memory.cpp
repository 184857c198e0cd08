// CoreMemory: splices the core's dumped segments with the undumped file-backed pages of the mapped files.
// The kernel's vma_dump_size (fs/coredump.c) dumps a private file mapping whole once it was written to, and
// otherwise only its first page (coredump_filter bit 4), so the prefix of each PT_LOAD that is in the core is
// authoritative and the rest of a file-backed mapping equals the file's bytes at the mapping's offset.
#include "unwind/core_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace goperf::unwind {

struct CoreMemory::MappedFile {
  const uint8_t* data = nullptr;
  size_t size = 0;
  ~MappedFile() {
    if (data != nullptr && size != 0) ::munmap(const_cast<uint8_t*>(data), size);
  }
};

namespace {

std::unique_ptr<CoreMemory::MappedFile> map_file(const std::string& path) {
  // O_NONBLOCK: a path a core names may be a FIFO or device now; only regular files are mapped.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return nullptr;
  struct stat st {};
  std::unique_ptr<CoreMemory::MappedFile> m;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      m = std::make_unique<CoreMemory::MappedFile>();
      m->data = static_cast<const uint8_t*>(p);
      m->size = static_cast<size_t>(st.st_size);
    }
  }
  ::close(fd);
  return m;
}

Error unavailable(uint64_t addr) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "address 0x%llx is not in the core", static_cast<unsigned long long>(addr));
  return make_error(ErrorCode::kUnavailable, buf);
}

}  // namespace

CoreMemory::~CoreMemory() = default;

Result<std::unique_ptr<CoreMemory>> CoreMemory::create(std::shared_ptr<const CoreFile> core, const Options& options) {
  std::unique_ptr<CoreMemory> mem(new CoreMemory());
  mem->core_ = std::move(core);
  const auto& maps = mem->core_->mapped_files();
  const CoreMappedFile* exe = mem->core_->executable_mapping();
  std::string exe_path = exe != nullptr ? strip_deleted_suffix(exe->path) : "";
  std::map<std::string, const MappedFile*> opened;
  mem->by_mapping_.assign(maps.size(), nullptr);
  for (size_t i = 0; i < maps.size(); i++) {
    std::string core_path = strip_deleted_suffix(maps[i].path);
    auto it = opened.find(core_path);
    if (it == opened.end()) {
      Backing b;
      b.core_path = core_path;
      b.is_executable = !exe_path.empty() && core_path == exe_path;
      if (b.is_executable && !options.executable.empty()) {
        b.local_path = options.executable;
      } else {
        b.local_path = options.sysroot.empty() ? core_path : options.sysroot + core_path;
      }
      auto m = map_file(b.local_path);
      b.found = m != nullptr;
      const MappedFile* raw = m.get();
      if (m) mem->files_.push_back(std::move(m));
      mem->backings_info_.push_back(std::move(b));
      it = opened.emplace(core_path, raw).first;
    }
    mem->by_mapping_[i] = it->second;
  }
  if (exe == nullptr && !options.executable.empty()) {
    // No NT_FILE entry names the executable (a core written without NT_FILE): nothing to splice it into.
    mem->backings_info_.push_back({"", options.executable, false, true});
  }
  return mem;
}

std::string CoreMemory::local_path(const std::string& core_path) const {
  std::string p = strip_deleted_suffix(core_path);
  for (const auto& b : backings_info_)
    if (b.core_path == p) return b.found ? b.local_path : "";
  return "";
}

Status CoreMemory::read_dumped(uint64_t addr, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    auto d = core_->dumped_at(addr + done);
    if (d.empty()) return unavailable(addr + done);
    size_t n = std::min(d.size(), out.size() - done);
    std::memcpy(out.data() + done, d.data(), n);
    done += n;
  }
  return {};
}

Status CoreMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  // Reads touch one or two pages each (a g, a few stack words): dropping our mapping's pages now and then keeps
  // the resident set to the pages in use, whatever the size of the core.
  constexpr uint64_t kReleaseEvery = 1 << 10;
  if (reads_.fetch_add(1, std::memory_order_relaxed) % kReleaseEvery == kReleaseEvery - 1) core_->release_pages();
  const auto& segs = core_->segments();
  const auto& maps = core_->mapped_files();
  size_t done = 0;
  while (done < out.size()) {
    uint64_t a = addr + done;
    if (a < addr) return unavailable(a);  // wrapped around
    auto d = core_->dumped_at(a);
    if (!d.empty()) {
      size_t n = std::min(d.size(), out.size() - done);
      std::memcpy(out.data() + done, d.data(), n);
      done += n;
      continue;
    }
    // Not dumped: the segment must exist (the vma was mapped) and be backed by a file we have.
    auto sit = std::upper_bound(segs.begin(), segs.end(), a, [](uint64_t x, const CoreSegment& s) { return x < s.vaddr; });
    if (sit == segs.begin()) return unavailable(a);
    --sit;
    if (a - sit->vaddr >= sit->memsz) return unavailable(a);
    uint64_t seg_end = sit->vaddr + sit->memsz;
    auto mit = std::upper_bound(maps.begin(), maps.end(), a, [](uint64_t x, const CoreMappedFile& f) { return x < f.start; });
    if (mit == maps.begin()) return unavailable(a);
    --mit;
    if (a >= mit->end) return unavailable(a);
    const MappedFile* f = by_mapping_[static_cast<size_t>(mit - maps.begin())];
    if (f == nullptr) return unavailable(a);
    uint64_t off = mit->file_offset + (a - mit->start);
    if (off >= f->size) return unavailable(a);
    uint64_t avail = std::min<uint64_t>({f->size - off, mit->end - a, seg_end - a});
    size_t n = static_cast<size_t>(std::min<uint64_t>(avail, out.size() - done));
    std::memcpy(out.data() + done, f->data + off, n);
    done += n;
  }
  return {};
}

}  // namespace goperf::unwind

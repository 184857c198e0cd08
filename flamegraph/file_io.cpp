// Whole-file I/O with POSIX calls: errno becomes part of the one-line message.
#include "flamegraph/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace goperf::flamegraph {
namespace {

Error errno_error(const std::string& what, const std::string& path) {
  const int e = errno;
  return make_error(e == EACCES || e == EPERM ? ErrorCode::kPermission
                    : e == ENOENT            ? ErrorCode::kNotFound
                                             : ErrorCode::kIo,
                    what + " " + path + ": " + std::strerror(e));
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::string> read_whole_file(const std::string& path) {
  int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorCode::kInvalidArgument, path + " is a directory");
  }
  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error err = errno_error("cannot read", path);
      if (fd != 0) ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  if (fd != 0) ::close(fd);
  return out;
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  MappedFile m;
  if (path != "-") {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("cannot open", path);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (p == MAP_FAILED) return errno_error("cannot map", path);
      m.map_ = p;
      m.size_ = static_cast<size_t>(st.st_size);
      return m;
    }
    ::close(fd);
  }
  auto bytes = read_whole_file(path);
  if (!bytes) return std::move(bytes).error();
  m.copy_ = std::move(bytes).value();
  return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : map_(other.map_), size_(other.size_), copy_(std::move(other.copy_)) {
  other.map_ = nullptr;
  other.size_ = 0;
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, size_);
}

Status write_whole_file(const std::string& path, const std::string& data) {
  if (path == "-") {
    if (!write_all(1, data)) return errno_error("cannot write", "stdout");
    return {};
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A device or FIFO (/dev/stdout, a pipe): write in place, never rename over it.
    if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, "cannot write " + path + ": is a directory");
    int dev = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (dev < 0) return errno_error("cannot write", path);
    bool ok = write_all(dev, data);
    Error err = ok ? Error(ErrorCode::kIo, "") : errno_error("cannot write", path);
    ::close(dev);
    if (!ok) return err;
    return {};
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot write", path);
  if (!write_all(fd, data)) {
    Error err = errno_error("cannot write", path);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::close(fd) != 0) {
    Error err = errno_error("cannot write", path);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error err = errno_error("cannot write", path);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

}  // namespace goperf::flamegraph

// ProcessMemory: process_vm_readv (one system call for many ranges), /proc/PID/mem as the fallback
// for kernels or policies that refuse it.
#include "unwind/process_memory.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

namespace goperf::unwind {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

ProcessMemory::ProcessMemory(pid_t pid) : pid_(pid) {}

ProcessMemory::~ProcessMemory() {
  if (mem_fd_ >= 0) ::close(mem_fd_);
}

Status ProcessMemory::read(uint64_t addr, std::span<uint8_t> out) const {
  if (out.empty()) return {};
  if (vm_readv_works_) {
    iovec local{out.data(), out.size()};
    iovec remote{reinterpret_cast<void*>(addr), out.size()};
    ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(out.size())) return {};
    if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
      vm_readv_works_ = false;
    } else if (n < 0 && errno == ESRCH) {
      return make_error(ErrorCode::kUnavailable, "process " + std::to_string(pid_) + " is gone");
    } else {
      return make_error(ErrorCode::kUnavailable, "memory at " + hex(addr) + " (" + std::to_string(out.size()) +
                                                     " bytes) is not readable");
    }
  }
  return read_proc_mem(addr, out);
}

Status ProcessMemory::read_proc_mem(uint64_t addr, std::span<uint8_t> out) const {
  if (mem_fd_ < 0) {
    std::string path = "/proc/" + std::to_string(pid_) + "/mem";
    mem_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (mem_fd_ < 0) {
      int err = errno;
      return make_error(err == EACCES || err == EPERM ? ErrorCode::kPermission : ErrorCode::kUnavailable,
                        path + ": " + std::strerror(err));
    }
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(mem_fd_, out.data() + done, out.size() - done, static_cast<off_t>(addr + done));
    if (n <= 0) {
      return make_error(ErrorCode::kUnavailable, "memory at " + hex(addr + done) + " is not readable");
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

size_t ProcessMemory::read_many(std::span<const iovec> remote, std::span<const iovec> local,
                                std::span<bool> ok) const {
  size_t good = 0;
  const size_t n = std::min({remote.size(), local.size(), ok.size()});
  size_t i = 0;
  while (i < n) {
    size_t batch = std::min<size_t>(n - i, IOV_MAX);
    ssize_t got = vm_readv_works_ ? ::process_vm_readv(pid_, local.data() + i, batch, remote.data() + i, batch, 0) : -1;
    if (got < 0 && (errno == ENOSYS || errno == EPERM)) vm_readv_works_ = false;
    // process_vm_readv stops at the first range it cannot read in full: mark the ranges it
    // covered, then retry the rest one by one from the failing range on.
    size_t covered = got > 0 ? static_cast<size_t>(got) : 0;
    size_t j = i;
    for (; j < i + batch; ++j) {
      if (covered < remote[j].iov_len) break;
      covered -= remote[j].iov_len;
      ok[j] = true;
      ++good;
    }
    if (j == i + batch) {
      i = j;
      continue;
    }
    // Range j failed (partially or wholly): read it alone, then continue after it.
    ok[j] = static_cast<bool>(read(reinterpret_cast<uint64_t>(remote[j].iov_base),
                                   std::span<uint8_t>(static_cast<uint8_t*>(local[j].iov_base), local[j].iov_len)));
    if (ok[j]) ++good;
    i = j + 1;
  }
  return good;
}

}  // namespace goperf::unwind

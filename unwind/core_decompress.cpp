// Streaming zstd / lz4 / xz decompression of systemd-coredump cores into an unlinked temporary file.
#include "unwind/core_decompress.h"

#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace goperf::unwind {
namespace {

constexpr size_t kChunk = 1 << 20;

Error io_error(const std::string& what) { return make_error(ErrorCode::kIo, what + ": " + std::strerror(errno)); }

Result<int> make_temp_fd() {
  const char* dir = std::getenv("TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  int fd = ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  // Kernels or filesystems without O_TMPFILE: a memfd still keeps the data out of our heap accounting
  // only partly (it is shmem), but works everywhere.
  fd = ::memfd_create("goperf-core", MFD_CLOEXEC);
  if (fd >= 0) return fd;
  return io_error(std::string("creating a temporary file in ") + dir);
}

Status write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("writing the decompressed core");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
  int release() { int f = fd; fd = -1; return f; }
};

Status zstd_stream(std::span<const uint8_t> in, int fd, std::vector<uint8_t>& buf) {
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) return make_error(ErrorCode::kInternal, "zstd: cannot create a decoder");
  ZSTD_initDStream(ds.get());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t last = 1;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds.get(), &output, &input);
    if (ZSTD_isError(last)) return make_error(ErrorCode::kFormat, std::string("zstd: ") + ZSTD_getErrorName(last));
    if (auto s = write_all(fd, buf.data(), output.pos); !s) return s;
  }
  // Drain what the decoder still holds when the input ended with a full output buffer.
  while (last != 0) {
    ZSTD_outBuffer output{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds.get(), &output, &input);
    if (ZSTD_isError(last)) return make_error(ErrorCode::kFormat, std::string("zstd: ") + ZSTD_getErrorName(last));
    if (auto s = write_all(fd, buf.data(), output.pos); !s) return s;
    if (output.pos == 0) break;
  }
  if (last != 0) return make_error(ErrorCode::kTruncated, "zstd: the compressed core ends inside a frame");
  return {};
}

Status lz4_stream(std::span<const uint8_t> in, int fd, std::vector<uint8_t>& buf) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)))
    return make_error(ErrorCode::kInternal, "lz4: cannot create a decoder");
  std::unique_ptr<LZ4F_dctx, size_t (*)(LZ4F_dctx*)> ctx(raw, LZ4F_freeDecompressionContext);
  size_t pos = 0;
  size_t hint = 1;
  while (pos < in.size()) {
    size_t out_size = buf.size();
    size_t in_size = in.size() - pos;
    hint = LZ4F_decompress(ctx.get(), buf.data(), &out_size, in.data() + pos, &in_size, nullptr);
    if (LZ4F_isError(hint)) return make_error(ErrorCode::kFormat, std::string("lz4: ") + LZ4F_getErrorName(hint));
    pos += in_size;
    if (auto s = write_all(fd, buf.data(), out_size); !s) return s;
    if (in_size == 0 && out_size == 0) break;
  }
  if (hint != 0) return make_error(ErrorCode::kTruncated, "lz4: the compressed core ends inside a frame");
  return {};
}

Status xz_stream(std::span<const uint8_t> in, int fd, std::vector<uint8_t>& buf) {
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
    return make_error(ErrorCode::kInternal, "xz: cannot create a decoder");
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&strm, lzma_end);
  strm.next_in = in.data();
  strm.avail_in = in.size();
  for (;;) {
    strm.next_out = buf.data();
    strm.avail_out = buf.size();
    lzma_ret ret = lzma_code(&strm, LZMA_FINISH);
    if (auto s = write_all(fd, buf.data(), buf.size() - strm.avail_out); !s) return s;
    if (ret == LZMA_STREAM_END) return {};
    if (ret == LZMA_BUF_ERROR) return make_error(ErrorCode::kTruncated, "xz: the compressed core is truncated");
    if (ret != LZMA_OK) return make_error(ErrorCode::kFormat, "xz: corrupt data (lzma error " + std::to_string(ret) + ")");
  }
}

}  // namespace

CoreCompression detect_core_compression(std::span<const uint8_t> h) {
  if (h.size() >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) return CoreCompression::kZstd;
  if (h.size() >= 4 && h[0] == 0x04 && h[1] == 0x22 && h[2] == 0x4d && h[3] == 0x18) return CoreCompression::kLz4;
  if (h.size() >= 6 && h[0] == 0xfd && h[1] == '7' && h[2] == 'z' && h[3] == 'X' && h[4] == 'Z' && h[5] == 0)
    return CoreCompression::kXz;
  return CoreCompression::kNone;
}

const char* core_compression_name(CoreCompression c) {
  switch (c) {
    case CoreCompression::kZstd: return "zstd";
    case CoreCompression::kLz4: return "lz4";
    case CoreCompression::kXz: return "xz";
    case CoreCompression::kNone: break;
  }
  return nullptr;
}

Result<int> decompress_core_to_fd(CoreCompression c, std::span<const uint8_t> in, const std::string& name) {
  auto fd = make_temp_fd();
  if (!fd) return std::move(fd).error().with_context(name);
  FdCloser closer{*fd};
  std::vector<uint8_t> buf(kChunk);
  Status s;
  switch (c) {
    case CoreCompression::kZstd: s = zstd_stream(in, *fd, buf); break;
    case CoreCompression::kLz4: s = lz4_stream(in, *fd, buf); break;
    case CoreCompression::kXz: s = xz_stream(in, *fd, buf); break;
    case CoreCompression::kNone: return make_error(ErrorCode::kInvalidArgument, name + ": not compressed");
  }
  if (!s) return std::move(s).error().with_context(name);
  return closer.release();
}

}  // namespace goperf::unwind

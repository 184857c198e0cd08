// gzip compression and decompression through zlib's deflate/inflate with the gzip wrapper (windowBits 16+15).
#include "flamegraph/gzip.h"

#include <zlib.h>

#include <algorithm>

namespace goperf::flamegraph {

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

std::string gzip_compress(std::string_view data, int level) {
  z_stream zs{};
  // 15 window bits + 16 selects the gzip header and trailer instead of zlib's.
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Result<std::string> gunzip(std::string_view data, size_t max_size) {
  z_stream zs{};
  // 15 + 32: accept a gzip or zlib header, detected automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return make_error(ErrorCode::kInternal, "inflateInit2 failed");
  std::string out;
  out.resize(std::min<size_t>(std::max<size_t>(data.size() * 4, 4096), max_size));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  size_t produced = 0;
  int rc = Z_OK;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= max_size) {
        inflateEnd(&zs);
        return make_error(ErrorCode::kFormat, "decompressed data larger than " + std::to_string(max_size) + " bytes");
      }
      out.resize(std::min(out.size() * 2, max_size));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow.
      if (zs.avail_in > 0 && is_gzip(std::string_view(reinterpret_cast<const char*>(zs.next_in), zs.avail_in))) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      return make_error(ErrorCode::kTruncated, "gzip stream ends early (truncated file?)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg ? zs.msg : "inflate failed";
      inflateEnd(&zs);
      return make_error(ErrorCode::kFormat, "corrupt gzip data: " + msg);
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

}  // namespace goperf::flamegraph

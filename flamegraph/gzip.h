// gzip framing (RFC 1952) around zlib: pprof files are gzip-compressed profile.proto messages.
#pragma once

#include <string>
#include <string_view>

#include "symbolize/result.h"

namespace goperf::flamegraph {

// True when `data` starts with the gzip magic (1f 8b).
bool is_gzip(std::string_view data);

// One gzip member holding `data`. `level` is zlib's (1 fastest .. 9 smallest, -1 default).
std::string gzip_compress(std::string_view data, int level = -1);

// Inflates every gzip member of `data` (concatenated members are one stream, as gzip -d reads them).
// A stream that ends early is kTruncated; corrupt data is kFormat. `max_size` bounds the output.
Result<std::string> gunzip(std::string_view data, size_t max_size = size_t{4} << 30);

}  // namespace goperf::flamegraph

// Streaming decompression of the core files systemd-coredump writes (zstd, lz4 frame, xz) into an unlinked
// temporary file, so that a core of gigabytes is never held in anonymous memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "symbolize/result.h"

namespace goperf::unwind {

enum class CoreCompression { kNone, kZstd, kLz4, kXz };

// Recognizes the frame magic of each format.
CoreCompression detect_core_compression(std::span<const uint8_t> head);
const char* core_compression_name(CoreCompression c);  // "zstd", "lz4", "xz", nullptr for kNone

// Decompresses `in` into a fresh unlinked file under $TMPDIR (or /tmp, else a memfd) and returns its
// descriptor, positioned anywhere; the caller maps and closes it. Errors say which format failed and why.
Result<int> decompress_core_to_fd(CoreCompression c, std::span<const uint8_t> in, const std::string& name);

}  // namespace goperf::unwind

// ProfileReader: gzip -> inflate first; then text that parses as folded stacks is folded, anything else
// must be a profile.proto message.
#include "flamegraph/profile_reader.h"

#include "flamegraph/file_io.h"
#include "flamegraph/folded_reader.h"
#include "flamegraph/gzip.h"
#include "flamegraph/pprof_reader.h"

namespace goperf::flamegraph {
namespace {

// Text: no NUL and no control bytes but \t \n \r in the first 64 KiB. A profile.proto message almost
// always has some (field tags 0x0a, 0x12, small varints).
bool is_text(std::string_view s) {
  s = s.substr(0, 64 * 1024);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace

Result<Profile> parse_profile(std::string_view bytes, InputFormat format) {
  if (bytes.empty()) return make_error(ErrorCode::kFormat, "empty file");
  if (format == InputFormat::kPprof) return parse_pprof(bytes);
  std::string inflated;
  if (is_gzip(bytes)) {
    auto r = gunzip(bytes);
    if (!r) return std::move(r).error();
    inflated = std::move(r).value();
    bytes = inflated;
    if (bytes.empty()) return make_error(ErrorCode::kFormat, "the gzip stream is empty");
  }
  if (format == InputFormat::kFolded) return parse_folded(bytes);
  if (is_text(bytes)) {
    if (looks_folded(bytes)) return parse_folded(bytes);
    return make_error(ErrorCode::kFormat, "not a profile: text that is not folded stacks ('a;b;c 42' lines)");
  }
  auto p = parse_pprof(bytes);
  if (!p) return make_error(ErrorCode::kFormat, "not a profile (neither pprof nor folded stacks): " + p.error().message());
  return p;
}

bool is_folded_text(std::string_view bytes) { return !is_gzip(bytes) && is_text(bytes) && looks_folded(bytes); }

Result<Profile> read_profile(const std::string& path, InputFormat format) {
  auto file = MappedFile::open(path);
  if (!file) return std::move(file).error();
  auto p = parse_profile(file->data(), format);
  if (!p) return std::move(p).error().with_context(path);
  return p;
}

}  // namespace goperf::flamegraph

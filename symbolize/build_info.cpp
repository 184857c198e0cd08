// BuildInfo: the .go.buildinfo blob (src/cmd/link/internal/ld/data.go buildinfo, src/debug/buildinfo)
// and the modinfo text inside it (src/runtime/debug/mod.go ParseBuildInfo).
#include "symbolize/build_info.h"

#include <elf.h>

#include <charconv>
#include <cstring>
#include <string_view>

#include "symbolize/elf_file.h"

namespace goperf::symbolize {

namespace {

constexpr std::string_view kMagic("\xff Go buildinf:", 14);
constexpr size_t kHeaderSize = 32;

// uvarint length + bytes, as the 1.18+ inline-string format stores both strings.
bool read_string(std::span<const uint8_t> b, size_t& pos, std::string& out) {
  uint64_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (pos >= b.size() || shift > 63) return false;
    uint8_t c = b[pos++];
    len |= uint64_t(c & 0x7f) << shift;
    if (!(c & 0x80)) break;
  }
  if (len > b.size() - pos) return false;
  out.assign(reinterpret_cast<const char*>(b.data() + pos), len);
  pos += len;
  return true;
}

// strconv.Unquote for the double-quoted values `go build` writes for keys or values with spaces.
std::string unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 2 >= s.size()) {
      out.push_back(c);
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      default: out.push_back(e); break;
    }
  }
  return out;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t t = line.find('\t', start);
    out.push_back(line.substr(start, t == std::string_view::npos ? std::string_view::npos : t - start));
    if (t == std::string_view::npos) break;
    start = t + 1;
  }
  return out;
}

GoModule parse_module(const std::vector<std::string_view>& f) {
  GoModule m;
  if (f.size() > 1) m.path = f[1];
  if (f.size() > 2) m.version = f[2];
  if (f.size() > 3) m.sum = f[3];
  return m;
}

void parse_modinfo(std::string_view mod, BuildInfo& bi) {
  // The text sits between two 16-byte sentinels (runtime/debug's modinfo start/end markers).
  if (mod.size() >= 33 && mod[mod.size() - 17] == '\n') mod = mod.substr(16, mod.size() - 32);
  GoModule* last = nullptr;
  while (!mod.empty()) {
    size_t nl = mod.find('\n');
    std::string_view line = mod.substr(0, nl);
    mod = nl == std::string_view::npos ? std::string_view() : mod.substr(nl + 1);
    auto f = split_tabs(line);
    if (f[0] == "path" && f.size() >= 2) {
      bi.main_path = f[1];
    } else if (f[0] == "mod") {
      bi.main = parse_module(f);
      last = &bi.main;
    } else if (f[0] == "dep") {
      bi.deps.push_back(parse_module(f));
      last = &bi.deps.back();
    } else if (f[0] == "=>" && last) {
      last->replace.emplace(f.size() > 1 ? std::string(f[1]) : "", f.size() > 2 ? std::string(f[2]) : "");
      if (f.size() > 3) last->sum = f[3];
    } else if (f[0] == "build" && f.size() >= 2) {
      std::string_view kv = line.substr(6);
      // A quoted key may contain '='; find the separator after it.
      size_t eq = kv.starts_with('"') ? kv.find('=', kv.find('"', 1)) : kv.find('=');
      if (eq == std::string_view::npos) continue;
      bi.settings.emplace_back(unquote(kv.substr(0, eq)), unquote(kv.substr(eq + 1)));
    }
  }
}

}  // namespace

int BuildInfo::minor_version() const {
  size_t p = go_version.find("go1.");
  if (p == std::string::npos) return 0;
  int minor = 0;
  const char* b = go_version.data() + p + 4;
  auto [end, ec] = std::from_chars(b, go_version.data() + go_version.size(), minor);
  return ec == std::errc() && end != b ? minor : 0;
}

std::string BuildInfo::setting(const std::string& key) const {
  for (const auto& [k, v] : settings)
    if (k == key) return v;
  return "";
}

Result<BuildInfo> BuildInfo::parse(std::span<const uint8_t> blob) {
  if (blob.size() < kHeaderSize || std::memcmp(blob.data(), kMagic.data(), kMagic.size()) != 0)
    return make_error(ErrorCode::kFormat, "no Go build information (bad .go.buildinfo magic)");
  uint8_t flags = blob[15];
  if ((flags & 2) == 0)
    return make_error(ErrorCode::kUnsupported, "Go build information of a Go release before 1.18");
  if (flags & 1) return make_error(ErrorCode::kUnsupported, "big-endian Go build information");
  BuildInfo bi;
  size_t pos = kHeaderSize;
  std::string mod;
  if (!read_string(blob, pos, bi.go_version) || !read_string(blob, pos, mod))
    return make_error(ErrorCode::kTruncated, "truncated Go build information");
  parse_modinfo(mod, bi);
  return bi;
}

Result<BuildInfo> BuildInfo::read(const ElfFile& elf) {
  if (auto s = elf.find_section(".go.buildinfo"); s && s->type != SHT_NOBITS) {
    auto r = parse(elf.file_bytes(s->offset, s->size));
    if (r || r.error().code() != ErrorCode::kFormat) return r;
  }
  // Section headers gone: the blob is 16-byte aligned in a writable segment (debug/buildinfo).
  for (const auto& seg : elf.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0) continue;
    auto bytes = elf.file_bytes(seg.offset, seg.filesz);
    uint64_t start = (16 - (seg.vaddr & 15)) & 15;
    for (uint64_t off = start; off + kHeaderSize <= bytes.size(); off += 16) {
      if (bytes[off] != 0xff || std::memcmp(bytes.data() + off, kMagic.data(), kMagic.size()) != 0) continue;
      return parse(bytes.subspan(off));
    }
  }
  return make_error(ErrorCode::kNotFound, elf.path() + ": no Go build information");
}

}  // namespace goperf::symbolize

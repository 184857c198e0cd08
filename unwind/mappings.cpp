// Mappings: parsing /proc/PID/maps (proc(5)) and address lookup by binary search.
#include "unwind/mappings.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace goperf::unwind {

namespace {

bool parse_hex(std::string_view s, uint64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_decimal(std::string_view s, uint64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "MAJOR:MINOR" in hex (fs/proc/task_mmu.c prints "%02x:%02x" of MAJOR(dev) and MINOR(dev)).
bool parse_device(std::string_view s, Mapping& m) {
  size_t colon = s.find(':');
  uint64_t major = 0, minor = 0;
  if (colon == std::string_view::npos || !parse_hex(s.substr(0, colon), major) ||
      !parse_hex(s.substr(colon + 1), minor) || major > UINT32_MAX || minor > UINT32_MAX)
    return false;
  m.dev_major = static_cast<uint32_t>(major);
  m.dev_minor = static_cast<uint32_t>(minor);
  return true;
}

std::string_view next_field(std::string_view& line) {
  size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(b);
  size_t e = line.find(' ');
  std::string_view f = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return f;
}

}  // namespace

std::string strip_deleted_suffix(const std::string& path) {
  static constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) return path.substr(0, path.size() - kDeleted.size());
  return path;
}

std::string Mapping::display_path() const { return strip_deleted_suffix(path); }

Mappings::Mappings(std::vector<Mapping> mappings) : mappings_(std::move(mappings)) {
  std::sort(mappings_.begin(), mappings_.end(), [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
}

Result<Mappings> Mappings::parse(std::string_view text) {
  std::vector<Mapping> out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::string_view rest = line;
    std::string_view range = next_field(rest), perms = next_field(rest), offset = next_field(rest);
    std::string_view dev = next_field(rest), inode = next_field(rest);
    size_t dash = range.find('-');
    Mapping m;
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), m.start) ||
        !parse_hex(range.substr(dash + 1), m.end) || perms.size() < 3 || !parse_hex(offset, m.offset) ||
        m.end < m.start || !parse_device(dev, m) || !parse_decimal(inode, m.inode)) {
      return make_error(ErrorCode::kFormat, "maps line " + std::to_string(line_no) + ": '" + std::string(line) + "'");
    }
    m.readable = perms[0] == 'r';
    m.writable = perms[1] == 'w';
    m.executable = perms[2] == 'x';
    size_t b = rest.find_first_not_of(' ');
    if (b != std::string_view::npos) m.path = std::string(rest.substr(b));
    out.push_back(std::move(m));
  }
  return Mappings(std::move(out));
}

Result<Mappings> Mappings::read_proc(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      return make_error(ErrorCode::kPermission, path + ": " + std::strerror(err) + " (needs CAP_SYS_PTRACE)");
    return make_error(ErrorCode::kNotFound, path + ": " + std::strerror(err) + " (no such process?)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str());
}

const Mapping* Mappings::find(uint64_t addr) const {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), addr,
                             [](uint64_t a, const Mapping& m) { return a < m.start; });
  if (it == mappings_.begin()) return nullptr;
  --it;
  return it->contains(addr) ? &*it : nullptr;
}

}  // namespace goperf::unwind

// `goperf info` output. The build info block mirrors runtime/debug.BuildInfo.String (src/runtime/debug/mod.go)
// and cmd/go/internal/version.scanFile, including their quoting and the empty line after a "=>" line.
#include "profiler/info/info_printer.h"
#include "profiler/json_string.h"

#include <cinttypes>
#include <cstdio>
#include <string_view>

namespace goperf::profiler {
namespace {

// strconv.Quote for the ASCII and UTF-8 text build settings hold.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool needs_quote(std::string_view s, std::string_view specials) {
  return s.find_first_of(specials) != std::string_view::npos;
}

void format_mod(std::string& buf, const char* word, const symbolize::GoModule& m) {
  buf += word;
  buf += '\t';
  buf += m.path;
  buf += '\t';
  buf += m.version;
  if (!m.replace) {
    buf += '\t';
    buf += m.sum;
  } else {
    // The replacement's own line; debug.BuildInfo.String ends both lines, leaving an empty one.
    buf += '\n';
    buf += "=>\t" + m.replace->first + '\t' + m.replace->second + "\t\n";
  }
  buf += '\n';
}

// A module as go version -m -json has it (debug.Module), under goperf's snake_case keys.
std::string json_module(const symbolize::GoModule& m) {
  std::string out = "{\"path\": " + json_string(m.path);
  if (!m.version.empty()) out += ", \"version\": " + json_string(m.version);
  if (!m.sum.empty()) out += ", \"sum\": " + json_string(m.sum);
  if (m.replace) {
    out += ", \"replace\": {\"path\": " + json_string(m.replace->first);
    if (!m.replace->second.empty()) out += ", \"version\": " + json_string(m.replace->second);
    out += "}";
  }
  return out + "}";
}

std::string cgo_evidence(const InfoReport& r) {
  std::string why;
  auto add = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  if (!r.cgo_enabled.empty()) add("CGO_ENABLED=" + r.cgo_enabled);
  if (r.external_linker) add("external linker");
  if (r.cgo_go_funcs) add("cgo-generated Go functions");
  if (r.native_text_bytes > 0) add(std::to_string(r.native_text_bytes) + " bytes of non-Go code in .text");
  return why;
}

}  // namespace

std::string format_go_version_m(const std::string& path, const symbolize::BuildInfo& b) {
  std::string mod;
  if (!b.main_path.empty()) mod += "path\t" + b.main_path + "\n";
  if (!b.main.path.empty() || !b.main.version.empty() || !b.main.sum.empty() || b.main.replace) {
    format_mod(mod, "mod", b.main);
  }
  for (const auto& d : b.deps) format_mod(mod, "dep", d);
  for (const auto& [k, v] : b.settings) {
    std::string key = k.empty() || needs_quote(k, "= \t\r\n\"`") ? go_quote(k) : k;
    std::string value = needs_quote(v, " \t\r\n\"`") ? go_quote(v) : v;
    mod += "build\t" + key + "=" + value + "\n";
  }
  std::string out = path + ": " + b.go_version + "\n";
  if (!mod.empty()) {
    out += '\t';
    for (size_t i = 0; i + 1 < mod.size(); ++i) {
      out += mod[i];
      if (mod[i] == '\n') out += '\t';
    }
    out += '\n';
  }
  return out;
}

std::string format_info_text(const InfoReport& r) {
  std::string out;
  if (r.build) {
    out = format_go_version_m(r.path, *r.build);
  } else {
    out = r.path + ": unknown Go version (" + r.build_error + ")\n";
  }
  out += "platform: " + r.goos + "/" + r.goarch + "\n";
  out += "pclntab: " + r.pclntab_version + " (magic " + hex_string(r.pclntab_magic) + "), " +
         (r.pclntab_scanned ? std::string("found by scanning the segments") : "section " + r.pclntab_section) +
         ", at " + hex_string(r.pclntab_vaddr) + "\n";
  out += "text start: " + hex_string(r.text_start) + "\n";
  out += "moduledata: " + (r.moduledata_vaddr ? hex_string(*r.moduledata_vaddr) : std::string("not found")) + "\n";
  out += "functions: " + std::to_string(r.func_count) + "\n";
  out += "elf type: " + r.elf_type + (r.pie ? " (PIE)" : " (not PIE)") + "\n";
  out += std::string("pie: ") + (r.pie ? "yes" : "no") + "\n";
  out += std::string("stripped: ") + (r.stripped() ? "yes" : "no") + " (" + (r.has_symtab ? ".symtab" : "no .symtab") +
         ", " + (r.has_dwarf ? "DWARF" : "no DWARF") + ")\n";
  std::string why = cgo_evidence(r);
  out += std::string("cgo: ") + (r.cgo() ? "yes" : "no") + (why.empty() ? "" : " (" + why + ")") + "\n";
  out += "gnu build id: " + (r.gnu_build_id.empty() ? std::string("none") : r.gnu_build_id) + "\n";
  out += "go build id: " + (r.go_build_id.empty() ? std::string("none") : r.go_build_id) + "\n";
  out += "runtime layout: " + r.runtime_layout + "\n";
  return out;
}

std::string format_info_json(const InfoReport& r) {
  std::string out = "{\n  \"path\": " + json_string(r.path) + ",\n";
  if (r.build) {
    const auto& b = *r.build;
    out += "  \"go_version\": " + json_string(b.go_version) + ",\n";
    out += "  \"main_path\": " + json_string(b.main_path) + ",\n";
    out += "  \"main\": " + json_module(b.main) + ",\n";
    out += "  \"deps\": [";
    for (size_t i = 0; i < b.deps.size(); ++i) out += (i ? ", " : "") + json_module(b.deps[i]);
    out += "],\n  \"settings\": [";
    for (size_t i = 0; i < b.settings.size(); ++i) {
      // As debug.BuildSetting's JSON: an empty value is omitted.
      out += (i ? ", " : "") + std::string("{\"key\": ") + json_string(b.settings[i].first);
      if (!b.settings[i].second.empty()) out += ", \"value\": " + json_string(b.settings[i].second);
      out += "}";
    }
    out += "],\n";
  } else {
    out += "  \"build_info_error\": " + json_string(r.build_error) + ",\n";
  }
  auto field = [&](const char* k, const std::string& v) { out += std::string("  \"") + k + "\": " + v + ",\n"; };
  auto boolean = [](bool b) { return std::string(b ? "true" : "false"); };
  field("goos", json_string(r.goos));
  field("goarch", json_string(r.goarch));
  // Addresses (and the pclntab magic, a bit pattern) as hex strings, as in every goperf JSON.
  auto hex = [](uint64_t v) { return json_string(hex_string(v)); };
  field("pclntab", "{\"version\": " + json_string(r.pclntab_version) + ", \"magic\": " + hex(r.pclntab_magic) +
                       ", \"found_by\": " + json_string(r.pclntab_scanned ? "scan" : "section") +
                       ", \"section\": " + json_string(r.pclntab_section) + ", \"vaddr\": " + hex(r.pclntab_vaddr) + "}");
  field("text_start", hex(r.text_start));
  field("moduledata", r.moduledata_vaddr ? hex(*r.moduledata_vaddr) : "null");
  field("functions", std::to_string(r.func_count));
  field("elf_type", json_string(r.elf_type));
  field("pie", boolean(r.pie));
  field("stripped", boolean(r.stripped()));
  field("symtab", boolean(r.has_symtab));
  field("dwarf", boolean(r.has_dwarf));
  field("cgo", boolean(r.cgo()));
  field("cgo_evidence", json_string(cgo_evidence(r)));
  field("external_linker", boolean(r.external_linker));
  field("gnu_build_id", json_string(r.gnu_build_id));
  field("runtime_layout", json_string(r.runtime_layout));
  out += "  \"go_build_id\": " + json_string(r.go_build_id) + "\n}\n";
  return out;
}

}  // namespace goperf::profiler

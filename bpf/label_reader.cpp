// Decoding of runtime/pprof label sets from target memory. Layouts mirror runtime/pprof/label.go:
//   Go <= 1.23: g.labels -> *labelMap, labelMap = map[string]string (runtime/map.go hmap + buckets);
//   Go >= 1.24: g.labels -> *labelMap{ Set{ List []Label{Key, Value string} } } (internal/runtime/pprof/label).
#include "bpf/label_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "unwind/memory.h"

namespace goperf::bpf {
namespace {

constexpr uint64_t kMaxLabels = 64;
constexpr uint64_t kMaxString = 4096;

uint64_t word(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool read_string(const unwind::Memory& mem, uint64_t ptr, uint64_t len, std::string& out) {
  if (len > kMaxString) return false;
  out.assign(len, '\0');
  if (len == 0) return true;
  return static_cast<bool>(mem.read(ptr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), len)));
}

// A Go string header (ptr, len) at p, read into out.
bool read_go_string(const unwind::Memory& mem, const uint8_t* p, std::string& out) {
  return read_string(mem, word(p), word(p + 8), out);
}

}  // namespace

bool LabelReader::decode_slice(uint64_t labels, const unwind::Memory& mem, Entry& out) {
  std::array<uint8_t, 24> hdr{};
  if (!mem.read(labels, hdr)) return false;
  uint64_t data = word(hdr.data()), len = word(hdr.data() + 8), cap = word(hdr.data() + 16);
  if (len > cap || len > kMaxLabels || (len && !data)) return false;
  std::vector<uint8_t> items(len * 32);
  if (len && !mem.read(data, items)) return false;
  for (uint64_t i = 0; i < len; ++i) {
    std::string k, v;
    if (!read_go_string(mem, &items[i * 32], k) || !read_go_string(mem, &items[i * 32 + 16], v)) return false;
    out.owned.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

// hmap (runtime/map.go before swiss maps): count@0, B@9, buckets@16, oldbuckets@24. A bucket of
// map[string]string: tophash[8], keys[8]string, elems[8]string, overflow pointer = 272 bytes.
bool LabelReader::decode_map(uint64_t labels, const unwind::Memory& mem, Entry& out) {
  uint64_t hmap = 0;
  if (!mem.read(labels, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&hmap), 8))) return false;
  if (hmap == 0) return true;  // nil map: no labels
  std::array<uint8_t, 48> h{};
  if (!mem.read(hmap, h)) return false;
  uint64_t count = word(h.data());
  uint8_t b = h[9];
  if (count > kMaxLabels || b > 8) return false;
  constexpr size_t kBucket = 272;
  std::vector<uint8_t> bucket(kBucket);
  auto scan = [&](uint64_t base, uint64_t nbuckets) {
    for (uint64_t i = 0; i < nbuckets; ++i) {
      uint64_t addr = base + i * kBucket;
      for (int chain = 0; addr && chain < 16; ++chain) {
        if (!mem.read(addr, bucket)) return false;
        for (int j = 0; j < 8; ++j) {
          if (bucket[j] <= 4) continue;  // emptyRest, emptyOne, evacuated*: minTopHash is 5
          std::string k, v;
          if (!read_go_string(mem, &bucket[8 + j * 16], k) || !read_go_string(mem, &bucket[136 + j * 16], v))
            return false;
          bool dup = std::any_of(out.owned.begin(), out.owned.end(), [&](auto& kv) { return kv.first == k; });
          if (!dup) out.owned.emplace_back(std::move(k), std::move(v));
        }
        addr = word(&bucket[264]);
      }
    }
    return true;
  };
  uint64_t buckets = word(h.data() + 16), old = word(h.data() + 24);
  if (buckets && !scan(buckets, uint64_t{1} << b)) return false;
  if (old && b > 0 && !scan(old, uint64_t{1} << (b - 1))) return false;
  return out.owned.size() == count || old != 0;
}

std::span<const std::pair<std::string_view, std::string_view>> LabelReader::get(uint32_t pid, uint64_t labels,
                                                                                 const unwind::Memory& mem) {
  if (labels == 0) return {};
  auto key = std::make_pair(pid, labels);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    Entry e;
    bool ok;
    if (go_minor_ >= 24) {
      ok = decode_slice(labels, mem, e);
    } else if (go_minor_ > 0) {
      ok = decode_map(labels, mem, e);
    } else {
      ok = decode_slice(labels, mem, e);
      if (!ok) {
        e = Entry{};
        ok = decode_map(labels, mem, e);
      }
    }
    if (!ok) e = Entry{};
    std::sort(e.owned.begin(), e.owned.end());
    it = cache_.emplace(key, std::move(e)).first;
    // Views are taken after the move: short strings live inside the std::string objects themselves.
    for (auto& [k, v] : it->second.owned) it->second.views.emplace_back(k, v);
  }
  return it->second.views;
}

}  // namespace goperf::bpf

// Addr2lineBatch: sort, answer each distinct address in address order, gather in input order.
#include "profiler/addr2line/addr2line_batch.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "profiler/options/addr2line_options.h"
#include "symbolize/sorted_symbolizer.h"

namespace goperf::profiler {

namespace {
constexpr size_t kTypicalAnswer = 128;  // bytes: -f -i on etcd averages 100

bool same_frames(std::span<const symbolize::Frame> a, std::span<const symbolize::Frame> b) {
  auto same_view = [](std::string_view x, std::string_view y) { return x.data() == y.data() && x.size() == y.size(); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](const symbolize::Frame& x, const symbolize::Frame& y) {
    return x.entry == y.entry && same_view(x.function, y.function) && same_view(x.file, y.file) && x.line == y.line &&
           x.start_line == y.start_line && x.inlined == y.inlined && x.is_go == y.is_go;
  });
}
}  // namespace

void Addr2lineBatch::add(std::string_view address) { addresses_.push_back(parse_gnu_address(address)); }

void Addr2lineBatch::add_lines(std::string_view text, unsigned threads) {
  auto parse = [](std::string_view lines, std::vector<uint64_t>& out) {
    out.reserve(out.size() + lines.size() / 2 + 1);  // lines of two bytes or more; untouched room costs nothing
    parse_gnu_address_lines(lines, out);
  };
  constexpr size_t kBytesPerThread = 1 << 20;  // below this a thread costs more than it saves
  threads = unsigned(std::clamp<size_t>(text.size() / kBytesPerThread, 1, std::max(threads, 1u)));
  // Thread t parses the lines starting in [t * size / threads, (t + 1) * size / threads).
  std::vector<size_t> cuts{0};
  for (unsigned t = 1; t < threads; ++t) {
    size_t nl = text.find('\n', text.size() * t / threads);
    cuts.push_back(nl == std::string_view::npos ? text.size() : std::max(nl + 1, cuts.back()));
  }
  cuts.push_back(text.size());
  std::vector<std::vector<uint64_t>> parts(threads - 1);
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t)
    helpers.emplace_back([&, t] { parse(text.substr(cuts[t], cuts[t + 1] - cuts[t]), parts[t - 1]); });
  parse(text.substr(0, cuts[1]), addresses_);
  for (auto& h : helpers) h.join();
  for (const auto& part : parts) addresses_.insert(addresses_.end(), part.begin(), part.end());
}

void Addr2lineBatch::answer() {
  symbolize(1);
  out_.reserve(out_.size() + addresses_.size() * kTypicalAnswer);
  gather(0, addresses_.size(), out_);
  clear();
}

void Addr2lineBatch::symbolize(unsigned threads) {
  size_t n = addresses_.size();
  threads = std::clamp(threads, 1u, 16u);
  if (n < size_t(threads) * 4096) threads = 1;  // a thread costs more than a few thousand lookups
  // Each thread sorts its own part of the address order, then answers it.
  order_.partition(addresses_, threads);
  spans_.resize(n);
  if (parts_.size() < threads) parts_.resize(threads);
  auto run = [this](unsigned t) {
    order_.sort_part(t);
    symbolize_range(order_.part_begin(t), order_.part_end(t), uint8_t(t));
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(run, t);
  run(0);
  for (auto& h : helpers) h.join();
}

// Answers positions [begin, end) of the address order into parts_[part]. Repeats of an address, and
// addresses with the same frames when the answer does not show the address, share one answer.
void Addr2lineBatch::symbolize_range(size_t begin, size_t end, uint8_t part) {
  Part& p = parts_[part];
  p.text.clear();
  // Room for the typical answer up front: growing by doubling copies, and every new block is new
  // pages to fault in.
  p.text.reserve((end - begin) * kTypicalAnswer);
  p.frames.clear();
  bool share_same_frames = !printer_.prints_address();
  std::vector<symbolize::Frame> frames;
  symbolize::SortedSymbolizer symbolizer(module_);
  Span last(0, 0, 0);
  for (size_t k = begin; k < end; ++k) {
    uint64_t address = order_.pc(k);
    uint32_t i = order_.position(k);
    if (k > begin && order_.pc(k - 1) == address) {
      spans_[i] = last;
      continue;
    }
    if (k > begin && share_same_frames && symbolizer.same_frames_as_last(address, false)) {
      spans_[i] = last;
      continue;
    }
    frames.clear();
    // Addresses are looked up as given (binutils does not step back from return addresses).
    symbolizer.symbolize(address, false, frames);
    if (k > begin && share_same_frames && same_frames(frames, p.frames)) {
      spans_[i] = last;
      continue;
    }
    size_t at = p.text.size();
    printer_.print(address, frames, p.text);
    last = Span(at, part, p.text.size() - at);
    spans_[i] = last;
    p.frames.swap(frames);
  }
}

std::string_view Addr2lineBatch::answer_text(Span span) const {
  return std::string_view(parts_[span.part()].text).substr(span.offset(), span.size());
}

size_t Addr2lineBatch::gather_bytes(size_t begin, size_t end) const {
  size_t bytes = 0;
  for (size_t i = begin; i < end; ++i) bytes += spans_[i].size();
  return bytes;
}

void Addr2lineBatch::gather_to(size_t begin, size_t end, char* out) const {
  constexpr size_t kAhead = 16;  // answers are scattered over the parts' text: fetch the next ones early
  for (size_t i = begin; i < end; ++i) {
    if (i + kAhead < end) __builtin_prefetch(parts_[spans_[i + kAhead].part()].text.data() + spans_[i + kAhead].offset());
    std::string_view text = answer_text(spans_[i]);
    std::memcpy(out, text.data(), text.size());
    out += text.size();
  }
}

void Addr2lineBatch::gather(size_t begin, size_t end, std::string& out) const {
  size_t at = out.size();
  out.resize(at + gather_bytes(begin, end));
  gather_to(begin, end, out.data() + at);
}

void Addr2lineBatch::clear() {
  addresses_.clear();
  spans_.clear();
}

}  // namespace goperf::profiler

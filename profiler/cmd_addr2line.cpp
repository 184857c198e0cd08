// goperf addr2line: binutils-compatible address -> function/file:line for Go binaries, stripped or not,
// with inlined frames from the pclntab. Addresses come from the arguments or, one per line, from stdin;
// answers are flushed whenever the input has no complete line left, so it works as a coprocess while
// a file of addresses is answered in large batches.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "profiler/addr2line_options.h"
#include "profiler/addr2line_printer.h"
#include "profiler/commands.h"
#include "symbolize/module.h"
#include "symbolize/pc_order.h"
#include "symbolize/pclntab.h"
#include "symbolize/sorted_symbolizer.h"

namespace goperf::profiler {
namespace {

// Answers addresses a batch at a time, in three passes: sort the addresses; symbolize and print each
// distinct one in address order (SortedSymbolizer decodes each function's tables once, and the pclntab is
// read front to back), the two halves of a large batch on two threads; copy the texts out in input order.
class Translator {
 public:
  Translator(const symbolize::Module& module, const Addr2linePrinter& printer)
      : module_(module), printer_(printer), parallel_(std::thread::hardware_concurrency() > 1) {}

  void add(std::string_view text) { addresses_.push_back(parse_gnu_address(text)); }

  // Prints the answers to every address added, in their order, and writes them out.
  bool flush() {
    size_t n = addresses_.size();
    order_.sort(addresses_);
    spans_.resize(n);
    // Split where the address changes: repeats of an address find their first in the same half.
    size_t mid = n / 2;
    while (mid > 0 && mid < n && order_.pc(mid) == order_.pc(mid - 1)) ++mid;
    if (parallel_ && n >= kParallelMin) {
      std::thread second([this, mid, n] { answer(mid, n, 1); });
      answer(0, mid, 0);
      second.join();
    } else {
      answer(0, n, 0);
    }
    constexpr size_t kAhead = 16;  // texts are scattered over the shards: fetch the next ones early
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(text_at(spans_[i + kAhead]));
      out_.append(text_at(spans_[i]), spans_[i].length);
      if (out_.size() >= kWriteBlock && !write_out()) return false;
    }
    addresses_.clear();
    return write_out() && std::fflush(stdout) == 0;
  }

 private:
  static constexpr size_t kWriteBlock = 1 << 20;
  static constexpr size_t kParallelMin = 4096;  // below this a thread costs more than it saves

  struct Shard {
    std::vector<symbolize::Frame> frames;
    std::string text;  // the answers to its distinct addresses
  };
  struct Span {
    uint32_t shard;
    size_t offset, length;
  };

  const char* text_at(const Span& s) const { return shards_[s.shard].text.data() + s.offset; }

  // Symbolizes and prints the addresses of order_[from, to) into shards_[shard].
  void answer(size_t from, size_t to, uint32_t shard) {
    Shard& sh = shards_[shard];
    sh.text.clear();
    symbolize::SortedSymbolizer symbolizer(module_);
    for (size_t k = from; k < to; ++k) {
      uint64_t address = order_.pc(k);
      uint32_t i = order_.position(k);
      if (k > from && order_.pc(k - 1) == address) {
        spans_[i] = spans_[order_.position(k - 1)];
        continue;
      }
      sh.frames.clear();
      // Addresses are looked up as given (binutils does not step back from return addresses).
      symbolizer.symbolize(address, false, sh.frames);
      size_t at = sh.text.size();
      printer_.print(address, sh.frames, sh.text);
      spans_[i] = {shard, at, sh.text.size() - at};
    }
  }

  bool write_out() {
    bool ok = out_.empty() || std::fwrite(out_.data(), 1, out_.size(), stdout) == out_.size();
    out_.clear();
    return ok;
  }

  const symbolize::Module& module_;
  const Addr2linePrinter& printer_;
  bool parallel_;
  std::vector<uint64_t> addresses_;
  symbolize::PcOrder order_;
  Shard shards_[2];
  std::vector<Span> spans_;  // per input position: its answer
  std::string out_;
};

// True when stdin has more bytes to read right now.
bool input_ready() {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

// Reads stdin in blocks and answers every complete line read before it would wait for more input, so
// it works as a coprocess (one address in, its answer out) while a file of addresses is answered in
// batches of up to kMaxBatch bytes.
int translate_stdin(Translator& t) {
  constexpr size_t kMaxBatch = 1 << 20;
  std::vector<char> buf(1 << 20);
  size_t have = 0;
  for (bool eof = false; !eof;) {
    do {
      if (have == buf.size()) buf.resize(buf.size() * 2);
      ssize_t n = ::read(STDIN_FILENO, buf.data() + have, buf.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::fprintf(stderr, "goperf addr2line: reading stdin: %s\n", std::strerror(errno));
        return 1;
      }
      if (n == 0) eof = true;
      have += static_cast<size_t>(n);
    } while (!eof && have < kMaxBatch && input_ready());
    size_t start = 0;
    for (const char* nl; (nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', have - start)));) {
      size_t i = static_cast<size_t>(nl - buf.data());
      t.add(std::string_view(buf.data() + start, i - start));
      start = i + 1;
    }
    if (eof && start < have) {
      t.add(std::string_view(buf.data() + start, have - start));
      start = have;
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    have -= start;
    if (!t.flush()) return 1;
  }
  return 0;
}

}  // namespace

int run_addr2line(const Args& args) {
  Addr2lineOptions o;
  if (!parse_addr2line_options(args, o)) return 0;
  auto module = symbolize::Module::open(o.binary);
  if (!module.ok()) {
    std::fprintf(stderr, "goperf addr2line: %s\n", module.error().message().c_str());
    return 1;
  }
  if (!(*module)->is_go()) {
    auto why = symbolize::Pclntab::load((*module)->elf_ptr());
    std::string message = why.ok() ? o.binary + ": not a Go program (no Go function table)" : why.error().message();
    std::fprintf(stderr, "goperf addr2line: %s\n", message.c_str());
    return 1;
  }
  std::unique_ptr<Addr2linePrinter> printer;
  if (o.json) {
    printer = std::make_unique<JsonAddr2linePrinter>(o.basenames, o.demangle);
  } else {
    printer = std::make_unique<GnuAddr2linePrinter>(GnuAddr2linePrinter::Config{
        .addresses = o.addresses, .functions = o.functions, .inlines = o.inlines, .pretty = o.pretty,
        .basenames = o.basenames, .demangle = o.demangle});
  }
  Translator t(**module, *printer);
  if (o.addresses_in.empty()) return translate_stdin(t);
  for (const auto& a : o.addresses_in) t.add(a);
  return t.flush() ? 0 : 1;
}

}  // namespace goperf::profiler

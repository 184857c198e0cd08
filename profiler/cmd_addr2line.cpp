// goperf addr2line: binutils-compatible address -> function/file:line for Go binaries, stripped or not,
// with inlined frames from the pclntab. Addresses come from the arguments or, one per line, from stdin;
// answers are flushed whenever the input has no complete line left, so it works as a coprocess while
// a large batch is still written in big blocks.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "profiler/addr2line_options.h"
#include "profiler/addr2line_printer.h"
#include "profiler/commands.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::profiler {
namespace {

class Translator {
 public:
  Translator(const symbolize::Module& module, const Addr2linePrinter& printer)
      : module_(module), printer_(printer) {}

  void translate(std::string_view text) {
    uint64_t address = parse_gnu_address(text);
    frames_.clear();
    // Addresses are looked up as given (binutils does not step back from return addresses).
    module_.symbolize(address, false, frames_);
    printer_.print(address, frames_, out_);
  }

  bool flush() {
    if (!out_.empty() && std::fwrite(out_.data(), 1, out_.size(), stdout) != out_.size()) return false;
    out_.clear();
    return std::fflush(stdout) == 0;
  }

 private:
  const symbolize::Module& module_;
  const Addr2linePrinter& printer_;
  std::vector<symbolize::Frame> frames_;
  std::string out_;
};

// Reads stdin in blocks, answers every complete line, and flushes before waiting for more input.
int translate_stdin(Translator& t) {
  std::vector<char> buf(1 << 16);
  size_t have = 0;
  for (;;) {
    if (have == buf.size()) buf.resize(buf.size() * 2);
    ssize_t n = ::read(STDIN_FILENO, buf.data() + have, buf.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "goperf addr2line: reading stdin: %s\n", std::strerror(errno));
      return 1;
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    size_t start = 0;
    for (size_t i = 0; i < have; ++i) {
      if (buf[i] != '\n') continue;
      t.translate(std::string_view(buf.data() + start, i - start));
      start = i + 1;
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    have -= start;
    if (!t.flush()) return 1;
  }
  if (have > 0) t.translate(std::string_view(buf.data(), have));
  return t.flush() ? 0 : 1;
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
  for (const auto& a : o.addresses_in) t.translate(a);
  return t.flush() ? 0 : 1;
}

}  // namespace goperf::profiler

// goperf addr2line: binutils-compatible address -> function/file:line for Go binaries, stripped or not,
// with inlined frames from the pclntab. Addresses come from the arguments or, one per line, from stdin;
// answers are flushed whenever the input has no complete line left, so it works as a coprocess while
// a file of addresses is answered in large batches (Addr2lineBatch) on two threads.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "profiler/addr2line_batch.h"
#include "profiler/addr2line_options.h"
#include "profiler/addr2line_printer.h"
#include "profiler/commands.h"
#include "symbolize/module.h"
#include "symbolize/pclntab.h"

namespace goperf::profiler {
namespace {

bool write_stdout(std::string& text) {
  bool ok = text.empty() || std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  text.clear();
  return std::fflush(stdout) == 0 && ok;
}

// True when stdin has more bytes to read right now.
bool input_ready() {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

// Reads stdin and answers every complete line read before it would wait for more input, so it works
// as a coprocess (one address in, its answer out). A file of addresses is cut into batches of about
// kBatchBytes answered on two threads in turn: while one batch is answered, the one before it is
// answered on the other thread or written out, in input order.
int translate_stdin(const symbolize::Module& module, const Addr2linePrinter& printer) {
  constexpr size_t kBatchBytes = 1 << 20;
  Addr2lineBatch batches[2] = {{module, printer}, {module, printer}};
  std::thread running[2];
  struct JoinAll {  // an early return (a failed write) must not leave a thread running
    std::thread* threads;
    ~JoinAll() {
      for (int i = 0; i < 2; ++i)
        if (threads[i].joinable()) threads[i].join();
    }
  } join_all{running};
  size_t next = 0;  // the slot of the next batch; the other one holds the batch before it
  auto finish = [&](size_t slot) {
    if (running[slot].joinable()) running[slot].join();
    return write_stdout(batches[slot].text());
  };
  std::vector<char> buf(kBatchBytes);
  size_t have = 0;
  for (bool eof = false; !eof;) {
    do {
      if (have == buf.size()) buf.resize(buf.size() * 2);  // a line longer than a batch
      ssize_t n = ::read(STDIN_FILENO, buf.data() + have, buf.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::fprintf(stderr, "goperf addr2line: reading stdin: %s\n", std::strerror(errno));
        return 1;
      }
      if (n == 0) eof = true;
      have += static_cast<size_t>(n);
    } while (!eof && have < kBatchBytes && input_ready());
    // Complete lines only, and the last line at the end of the input.
    size_t end = have;
    if (!eof) {
      while (end > 0 && buf[end - 1] != '\n') --end;
    }
    if (end > 0) {
      if (!finish(next)) return 1;  // the slot's previous batch, two batches back, goes out first
      batches[next].add_lines(std::string_view(buf.data(), end));
      running[next] = std::thread([&b = batches[next]] { b.answer(); });
      next ^= 1;
      std::memmove(buf.data(), buf.data() + end, have - end);
      have -= end;
    }
    // Before waiting for input, everything read so far is answered.
    if (!eof && !input_ready() && !(finish(next) && finish(next ^ 1))) return 1;
  }
  return finish(next) && finish(next ^ 1) ? 0 : 1;
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
  if (o.addresses_in.empty()) return translate_stdin(**module, *printer);
  Addr2lineBatch batch(**module, *printer);
  for (const auto& a : o.addresses_in) batch.add(a);
  batch.answer();
  return write_stdout(batch.text()) ? 0 : 1;
}

}  // namespace goperf::profiler

// goperf addr2line: binutils-compatible address -> function/file:line for Go binaries, stripped or not,
// with inlined frames from the pclntab. Addresses come from the arguments or, one per line, from stdin;
// answers are flushed whenever the input has no complete line left, so it works as a coprocess while
// a file of addresses is answered in large batches (Addr2lineBatch) on two threads.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "profiler/addr2line/addr2line_batch.h"
#include "profiler/options/addr2line_options.h"
#include "profiler/addr2line/addr2line_printer.h"
#include "profiler/commands.h"
#include "symbolize/module.h"
#include "symbolize/go_functions.h"

namespace goperf::profiler {
namespace {

bool write_stdout(std::string_view text) {
  bool ok = text.empty() || std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  return std::fflush(stdout) == 0 && ok;
}

bool write_stdout(std::string& text) {
  bool ok = write_stdout(std::string_view(text));
  text.clear();
  return ok;
}

// Reads what stdin has, at most `room` bytes, to `at` (again after a signal): the number of bytes, 0 at
// the end of the input, -1 after saying why it failed.
ssize_t read_stdin(char* at, size_t room) {
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, at, room);
    if (n >= 0) return n;
    if (errno != EINTR) {
      std::fprintf(stderr, "goperf addr2line: reading stdin: %s\n", std::strerror(errno));
      return -1;
    }
  }
}

// How much of text[0, have) is complete lines: all of it at the end of the input.
size_t complete_lines(const char* text, size_t have, bool eof) {
  if (eof) return have;
  while (have > 0 && text[have - 1] != '\n') --have;
  return have;
}

// True when stdin has more bytes to read now, or within `wait_ms`.
bool input_ready(int wait_ms = 0) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, wait_ms) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

// A file of addresses never waits for more input: it is read in batches of up to kFileBatchBytes,
// each parsed by two threads, sorted once and symbolized by two threads over the two halves of its
// address order (a function's tables are decoded about once per batch, and neighbouring addresses on
// one line share one answer), then copied out in input order by two threads while the main thread
// writes the piece before.
int translate_file(const symbolize::Module& module, const Addr2linePrinter& printer) {
  constexpr size_t kFileBatchBytes = size_t(64) << 20;
  constexpr size_t kPiece = size_t(1) << 15;  // addresses per write
  constexpr size_t kSlots = 3;                // one piece written while the next two are gathered
  Addr2lineBatch batch(module, printer);
  struct Piece {  // answers copied out for one write, in memory that is reused and never zeroed
    std::unique_ptr<char[]> data;
    size_t capacity = 0, size = 0;
  } pieces[kSlots];
  std::thread gathering[kSlots];
  struct JoinAll {  // an early return (a failed write) must not leave a thread running
    std::thread* threads;
    ~JoinAll() {
      for (size_t i = 0; i < kSlots; ++i)
        if (threads[i].joinable()) threads[i].join();
    }
  } join_all{gathering};
  // Not a std::vector: zeroing tens of megabytes only to overwrite them costs as much as parsing.
  std::unique_ptr<char[]> buf;
  size_t capacity = 0, have = 0;
  for (bool eof = false; !eof;) {
    if (capacity - have < kFileBatchBytes / 2) {
      struct stat st {};
      off_t at = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
      size_t rest = ::fstat(STDIN_FILENO, &st) == 0 && at >= 0 && st.st_size > at ? size_t(st.st_size - at) : 0;
      size_t grown = have + std::clamp(rest + 1, size_t(1) << 16, kFileBatchBytes);
      std::unique_ptr<char[]> bigger(new char[grown]);
      std::memcpy(bigger.get(), buf.get(), have);
      buf = std::move(bigger);
      capacity = grown;
    }
    while (!eof && have < capacity) {
      ssize_t n = read_stdin(buf.get() + have, capacity - have);
      if (n < 0) return 1;
      eof = n == 0;
      have += static_cast<size_t>(n);
    }
    size_t end = complete_lines(buf.get(), have, eof);
    if (end == 0 && !eof) continue;  // a line longer than the buffer: read more of it
    batch.add_lines(std::string_view(buf.get(), end), 2);
    std::memmove(buf.get(), buf.get() + end, have - end);
    have -= end;
    batch.symbolize(2);
    size_t n = batch.size(), count = (n + kPiece - 1) / kPiece;
    auto start = [&](size_t piece) {
      if (piece >= count) return;
      gathering[piece % kSlots] = std::thread([&batch, n, piece, &out = pieces[piece % kSlots]] {
        size_t first = piece * kPiece, last = std::min(n, first + kPiece);
        out.size = batch.gather_bytes(first, last);
        if (out.size > out.capacity) {
          out.capacity = std::max(out.size, out.capacity * 2);
          out.data.reset(new char[out.capacity]);
        }
        batch.gather_to(first, last, out.data.get());
      });
    };
    for (size_t piece = 0; piece + 1 < kSlots; ++piece) start(piece);
    for (size_t piece = 0; piece < count; ++piece) {
      gathering[piece % kSlots].join();
      start(piece + kSlots - 1);
      const Piece& out = pieces[piece % kSlots];
      if (!write_stdout(std::string_view(out.data.get(), out.size))) return 1;
    }
    batch.clear();
  }
  return 0;
}

// Reads stdin and answers every complete line read before it would wait for more input, so it works
// as a coprocess (one address in, its answer out). Input from a pipe is cut into batches of up to
// kBatchBytes answered on two threads in turn: while one batch is answered, the one before it is
// answered on the other thread or written out, in input order. A regular file goes to translate_file.
int translate_stdin(const symbolize::Module& module, const Addr2linePrinter& printer) {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) return translate_file(module, printer);
  constexpr size_t kBatchBytes = 4 << 20;
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
  // A producer of many addresses (`... | goperf addr2line`) fills the pipe in whole buffers, each read
  // faster than the next arrives: after a read that large, a moment's wait for more makes batches of
  // kBatchBytes instead of one per pipe buffer (64 KiB: each would decode its functions' tables again,
  // three times the CPU in all). A coprocess writes a line at a time and never waits.
  constexpr ssize_t kBulkRead = 16 << 10;
  constexpr int kBulkWaitMs = 2;
  std::vector<char> buf(kBatchBytes);
  size_t have = 0;
  for (bool eof = false; !eof;) {
    ssize_t n = 0;
    do {
      if (have == buf.size()) buf.resize(buf.size() * 2);  // a line longer than a batch
      n = read_stdin(buf.data() + have, buf.size() - have);
      if (n < 0) return 1;
      eof = n == 0;
      have += static_cast<size_t>(n);
    } while (!eof && have < kBatchBytes && input_ready(n >= kBulkRead ? kBulkWaitMs : 0));
    size_t end = complete_lines(buf.data(), have, eof);
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
    std::fprintf(stderr, "goperf addr2line: %s\n", symbolize::not_go_error(**module, o.binary).message().c_str());
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

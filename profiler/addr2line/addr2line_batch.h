// Addr2lineBatch: the answers of `goperf addr2line` to a batch of addresses, in input order. Three
// passes: sort the addresses (PcOrder); symbolize and print each distinct one in address order
// (SortedSymbolizer decodes each function's tables once, and the pclntab is read front to back instead
// of at random); copy the answers out in input order. A batch does no I/O, so batches can be answered
// on several threads while another one is written, and one large batch can be symbolized by several
// threads at once, each over its own part of the address order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/addr2line/addr2line_printer.h"
#include "symbolize/frame.h"
#include "symbolize/pc_order.h"

namespace goperf::symbolize {
class Module;
}

namespace goperf::profiler {

class Addr2lineBatch {
 public:
  Addr2lineBatch(const symbolize::Module& module, const Addr2linePrinter& printer)
      : module_(module), printer_(printer) {}

  void add(std::string_view address);   // one address, as binutils addr2line parses it
  // One address per line; the last line may lack its newline. Large texts are parsed on `threads` threads.
  void add_lines(std::string_view text, unsigned threads = 1);
  size_t size() const { return addresses_.size(); }

  // Answers every address added, appending the text to text(); the batch is then empty.
  void answer();
  std::string& text() { return out_; }

  // answer() in two steps, for large batches: symbolize every address on `threads` threads, then copy
  // out the answers of input positions [begin, end) (any number of gathers, from any threads at once);
  // clear() empties the batch.
  void symbolize(unsigned threads);
  void gather(size_t begin, size_t end, std::string& out) const;
  // gather() into memory the caller owns (a std::string would first zero what is overwritten):
  // gather_bytes(begin, end) bytes at `out`.
  size_t gather_bytes(size_t begin, size_t end) const;
  void gather_to(size_t begin, size_t end, char* out) const;
  void clear();

 private:
  // Where an answer is: which thread's text, at what offset, how long.
  // 8 bytes, written whole: spans are stored at random (by input position), and a bit-field store would
  // first load the old value, a cache miss per address.
  class Span {
   public:
    Span() {}  // uninitialized: a batch's spans are all written before they are read
    Span(uint64_t offset, unsigned part, uint64_t size) : bits_(offset | uint64_t(part) << 36 | size << 40) {}
    uint64_t offset() const { return bits_ & ((uint64_t(1) << 36) - 1); }  // up to 64 GiB of answers per thread
    unsigned part() const { return unsigned(bits_ >> 36) & 15; }            // up to 16 threads
    uint64_t size() const { return bits_ >> 40; }  // an answer is at most kMaxInlineDepth frames of two names

   private:
    uint64_t bits_;
  };
  struct Part {
    std::string text;                      // answers of a range of the address order, in that order
    std::vector<symbolize::Frame> frames;  // the frames of the last address answered
  };
  void symbolize_range(size_t begin, size_t end, uint8_t part);
  std::string_view answer_text(Span span) const;

  const symbolize::Module& module_;
  const Addr2linePrinter& printer_;
  std::vector<uint64_t> addresses_;
  symbolize::PcOrder order_;
  std::vector<Part> parts_;
  std::vector<Span> spans_;  // per input position: its answer
  std::string out_;
};

}  // namespace goperf::profiler

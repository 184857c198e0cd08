// Addr2lineBatch: the answers of `goperf addr2line` to a batch of addresses, in input order. Three
// passes: sort the addresses (PcOrder); symbolize and print each distinct one in address order
// (SortedSymbolizer decodes each function's tables once, and the pclntab is read front to back instead
// of at random); copy the answers out in input order. A batch does no I/O, so batches can be answered
// on several threads while another one is written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/addr2line_printer.h"
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
  void add_lines(std::string_view text);  // one address per line; the last line may lack its newline

  // Answers every address added, appending the text to text(); the batch is then empty.
  void answer();
  std::string& text() { return out_; }

 private:
  const symbolize::Module& module_;
  const Addr2linePrinter& printer_;
  std::vector<uint64_t> addresses_;
  symbolize::PcOrder order_;
  std::vector<symbolize::Frame> frames_;
  std::string answers_;                                // each distinct address's answer, in address order
  std::vector<std::pair<size_t, size_t>> spans_;       // per input position: its answer in answers_
  std::string out_;
};

}  // namespace goperf::profiler

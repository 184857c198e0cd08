// Pclntab: the Go runtime's function table (Go 1.18-1.27): functions, pc-value tables, inline trees.
// All addresses here are link-time addresses of the executable; callers subtract a PIE load bias first.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "symbolize/frame.h"
#include "symbolize/func_info.h"
#include "symbolize/pc_value_reader.h"
#include "symbolize/result.h"

namespace goperf::symbolize {

class ElfFile;

class Pclntab {
 public:
  static constexpr uint8_t kFlagTopFrame = 1, kFlagSpWrite = 2, kFlagAsm = 4;
  static constexpr uint32_t kPcdataUnsafePoint = 0, kPcdataStackMapIndex = 1, kPcdataInlTreeIndex = 2,
                            kPcdataArgLiveIndex = 3;
  static constexpr uint32_t kFuncdataInlTree = 3, kFuncdataArgInfo = 5, kFuncdataArgLiveInfo = 6;
  static constexpr int kMaxInlineDepth = 256;  // inline levels followed at most: a corrupt tree may cycle

  struct Location {
    enum class Source { kSection, kScan };  // found by section name, or by scanning segments
    Source source = Source::kSection;
    std::string_view section;               // ".gopclntab", ".data.rel.ro.gopclntab", or "" when scanned
    uint64_t vaddr = 0;                     // link-time address of the header
  };

  // Finds and validates the pclntab (by section name, else by scanning PT_LOAD segments), and the
  // moduledata that points to it. Fails with kFormat for a non-Go file.
  static Result<std::unique_ptr<Pclntab>> load(std::shared_ptr<const ElfFile> elf);
  ~Pclntab();

  uint32_t magic() const;             // 0xfffffff0 (Go 1.18-1.19) or 0xfffffff1 (1.20+)
  const Location& location() const;
  uint64_t text_start() const;        // link-time start of Go text (not necessarily .text's address)
  std::optional<uint64_t> moduledata_vaddr() const;  // link-time address of runtime.firstmoduledata
  uint64_t gofunc() const;            // base of funcdata offsets (0 when moduledata was not found)

  size_t func_count() const;
  size_t table_size() const;          // bytes from the header to the end of the table (or its region)
  FuncInfo func_at(size_t index) const;
  std::optional<FuncInfo> find_func(uint64_t pc) const;                  // binary search, O(log n)
  std::optional<FuncInfo> find_func_by_name(std::string_view name) const;

  // pc-value tables at pc. nullopt when the function has no such table (e.g. no pcsp: stop unwinding).
  std::optional<int32_t> sp_delta(const FuncInfo& f, uint64_t pc) const;
  std::optional<int32_t> pcdata(const FuncInfo& f, uint32_t table, uint64_t pc) const;
  std::optional<uint64_t> funcdata(const FuncInfo& f, uint32_t index) const;  // link-time address
  // file:line of the physical function's own tables at pc (no inline expansion).
  std::pair<std::string_view, int> file_line(const FuncInfo& f, uint64_t pc) const;

  // Whole tables read forward, for many lookups in one function (FuncLineTable): the runtime's
  // _func.pcsp, pcfile and pcln, or pcdata table `table`. An absent table reads as no runs.
  enum class FuncTable : uint8_t { kSp, kFile, kLine };
  PcValueReader reader(const FuncInfo& f, FuncTable table) const;
  PcValueReader pcdata_reader(const FuncInfo& f, uint32_t table) const;
  // f's inline tree (empty when nothing is inlined into f) and its index-th entry.
  std::span<const uint8_t> inline_tree(const FuncInfo& f) const;
  std::optional<InlinedCall> inlined_call(std::span<const uint8_t> tree, int32_t index) const;
  // The file name of f's compilation unit's file number `fileno` (a pcfile value); "" when unknown.
  std::string_view file_name(const FuncInfo& f, int32_t fileno) const;

  // Appends the frames at lookup_pc, innermost first: each inlined call, then the physical function
  // (as runtime.CallersFrames). lookup_pc is the pc to look up: callers pass pc-1 for return addresses.
  // Frame.pc and Frame.entry are link-time addresses.
  void frames(const FuncInfo& f, uint64_t lookup_pc, std::vector<Frame>& out) const;

 private:
  struct Impl;
  explicit Pclntab(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace goperf::symbolize

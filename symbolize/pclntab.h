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
#include "symbolize/pc_value_reader.h"
#include "symbolize/result.h"

namespace goperf::symbolize {

class ElfFile;

// Functions the runtime's traceback treats specially. funcID numbers shift between Go versions,
// so goperf maps them by the function's name (runtime.goexit, runtime.mstart, ...).
enum class FuncKind : uint8_t {
  kNormal, kGoexit, kMstart, kRt0Go, kMorestack, kSystemstack, kSystemstackSwitch, kMcall, kSigpanic,
  kAsyncPreempt, kCgocallback, kAsmcgocall, kGogo, kDebugCallV2, kRuntimeMain, kGopanic, kPanicwrap,
  kWrapper, kAbort, kRunfinq, kGcBgMarkWorker, kHandleAsyncEvent, kCorostart,
  kRunCleanups,  // runtime.runCleanups (Go 1.25+), a goroutine bottom like runfinq
  // Assembly that calls the vDSO on g0's stack after its prologue (sys_linux_amd64.s runtime.nanotime1,
  // time_linux_amd64.s time.now, runtime.vgetrandom1): no funcID; sp is not its frame's, BP is.
  kVdsoCall,
};

// The kind of a function with this name (the names of src/internal/abi/symtab.go's funcIDs).
FuncKind func_kind_by_name(std::string_view name);
// Whether a function without a funcID is one of the vDSO callers (FuncKind::kVdsoCall).
bool calls_vdso_on_system_stack(std::string_view name);

struct FuncInfo {
  uint32_t index = 0;       // position in the function table
  uint64_t entry = 0;       // link-time address
  uint64_t end = 0;         // entry of the next function
  std::string_view name;
  FuncKind kind = FuncKind::kNormal;
  uint8_t flag = 0;         // kFlagTopFrame | kFlagSpWrite | kFlagAsm
  int32_t args = 0;         // argument size, -0x80000000 when unknown
  int start_line = 0;       // 0 before Go 1.20
};

// One entry of a function's inline tree (FUNCDATA_InlTree): a call inlined into it.
struct InlinedCall {
  std::string_view function;
  uint32_t parent_pc_offset = 0;  // from the physical entry: where the caller made this call
  int start_line = 0;             // 0 before Go 1.20
};

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

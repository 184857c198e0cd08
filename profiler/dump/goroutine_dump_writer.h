// GoroutineDumpWriter: the one way snapshot and core write a goroutine dump, streamed one goroutine at a
// time as the builder makes it: text (the runtime's SIGQUIT format) or JSON, optionally grouped, with
// what each goroutine waits on, or a diff against an earlier dump instead of the dump.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "profiler/dump/dump_origin.h"
#include "profiler/dump/goroutine_dump.h"
#include "profiler/dump/goroutine_dump_reader.h"

namespace goperf::profiler {

class GoroutineDumpBuilder;
class GoroutineWaits;

// Where the text goes: a file descriptor, written in large pieces. False from a write that failed.
class DumpSink {
 public:
  explicit DumpSink(int fd) : fd_(fd) {}
  void write(std::string_view data);
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = true;
};

// One format of a dump: a head, the goroutines, a tail. The caller decides which goroutines are shown.
class GoroutineDumpWriter {
 public:
  virtual ~GoroutineDumpWriter() = default;
  // `header`: what goes before the dump (core: the crash header; text, or a JSON object that then wraps
  // the dump as {"header":..,"dump":..}). `origin_fields`: extra JSON fields of the dump's head.
  virtual void begin(std::string_view header, std::string_view go_version, size_t threads,
                     std::string_view origin_fields) = 0;
  // `wait_fields`: GoroutineWaits::add's JSON fields ("" when not asked).
  virtual void add(const GoroutineDump& g, std::string_view wait_fields) = 0;
  // `groups`: the groups instead of the goroutines (--group), else null. `waits_summary`: text only.
  // Everything still buffered goes to the sink.
  virtual void end(const std::vector<GoroutineGroup>* groups, std::string_view waits_summary) = 0;
};

// "text" or "json" (the options parsers accept only these). `go_minor` and `level` pick the text's form;
// `grouped`: the text shows the groups only (JSON keeps the goroutines beside them).
std::unique_ptr<GoroutineDumpWriter> make_goroutine_dump_writer(std::string_view format, DumpSink& sink, int go_minor,
                                                                TracebackLevel level, bool grouped);

// What snapshot and core ask of a dump.
struct DumpRequest {
  std::string format = "text";
  std::string filter;   // --filter RE
  bool group = false;   // --group
  bool waits = false;   // --waits
  TracebackLevel level = TracebackLevel::kSystem;
  std::string header;   // see GoroutineDumpWriter::begin
  std::string origin_fields;
  std::optional<RecordedDump> old_dump;  // --diff: its path in diff_path; replaces the dump's output
  std::string diff_path;
  DumpOrigin origin;
};

// Builds every goroutine of `builder` in turn and writes the requested output to `sink`. `waits` reads
// the target's memory (asked for with request.waits).
void write_goroutine_dump(GoroutineDumpBuilder& builder, DumpRequest& request, GoroutineWaits& waits,
                          std::string_view go_version, size_t threads, int go_minor, DumpSink& sink);

}  // namespace goperf::profiler

// The text and JSON writers of a goroutine dump, and the loop that streams a dump from the builder
// through the filter, the grouper and the wait reader into one of them.
#include "profiler/dump/goroutine_dump_writer.h"

#include <unistd.h>

#include <cerrno>

#include "profiler/dump/goroutine_diff.h"
#include "profiler/dump/goroutine_dump_buffer.h"
#include "profiler/dump/goroutine_filter.h"
#include "profiler/dump/goroutine_groups.h"
#include "profiler/dump/goroutine_waits.h"

namespace goperf::profiler {

void DumpSink::write(std::string_view data) {
  while (ok_ && !data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok_ = false;
    if (n > 0) data.remove_prefix(static_cast<size_t>(n));
  }
}

namespace {

// Output is handed to the sink in pieces of about this size: large writes, bounded memory.
constexpr size_t kFlushAt = 1u << 20;

class TextDumpWriter final : public GoroutineDumpWriter {
 public:
  TextDumpWriter(DumpSink& sink, int go_minor, TracebackLevel level, bool grouped)
      : sink_(sink), go_minor_(go_minor), level_(level), grouped_(grouped) {
    text_.reserve(kFlushAt + (64u << 10));
  }
  void begin(std::string_view header, std::string_view, size_t, std::string_view) override { text_.append(header); }
  void add(const GoroutineDump& g, std::string_view) override {
    if (grouped_) return;
    if (g.system && level_ != TracebackLevel::kSystem) return;  // tracebackothers skips them
    if (!first_) text_.append("\n");
    first_ = false;
    append_goroutine_dump_text(text_, g, go_minor_, level_);
    if (text_.size() >= kFlushAt) flush();
  }
  void end(const std::vector<GoroutineGroup>* groups, std::string_view waits_summary) override {
    if (groups != nullptr) text_.append(format_goroutine_groups_text(*groups));
    text_.append(waits_summary);
    flush();
  }

 private:
  void flush() {
    sink_.write(text_.view());
    text_.clear();
  }

  DumpSink& sink_;
  int go_minor_;
  TracebackLevel level_;
  bool grouped_;
  bool first_ = true;
  DumpBuffer text_;
};

class JsonDumpWriter final : public GoroutineDumpWriter {
 public:
  explicit JsonDumpWriter(DumpSink& sink) : sink_(sink) {}
  void begin(std::string_view header, std::string_view go_version, size_t threads,
             std::string_view origin_fields) override {
    wrapped_ = !header.empty();
    if (wrapped_) json_.append("{\"header\":").append(header).append(",\"dump\":");
    append_goroutine_dump_json_head(json_, go_version, threads, origin_fields);
  }
  void add(const GoroutineDump& g, std::string_view wait_fields) override {
    append_goroutine_dump_json(json_, g, first_, wait_fields);
    first_ = false;
    if (json_.size() >= kFlushAt) flush();
  }
  void end(const std::vector<GoroutineGroup>* groups, std::string_view) override {
    if (groups != nullptr) append_goroutine_dump_json_tail_with_groups(json_, *groups);
    else append_goroutine_dump_json_tail(json_);
    if (wrapped_) json_.insert(json_.size() - 1, "}");  // closes {"header":..,"dump":..} before the last newline
    flush();
  }

 private:
  void flush() {
    sink_.write(json_);
    json_.clear();
  }

  DumpSink& sink_;
  bool wrapped_ = false;
  bool first_ = true;
  std::string json_;
};

}  // namespace

std::unique_ptr<GoroutineDumpWriter> make_goroutine_dump_writer(std::string_view format, DumpSink& sink, int go_minor,
                                                                TracebackLevel level, bool grouped) {
  if (format == "json") return std::make_unique<JsonDumpWriter>(sink);
  return std::make_unique<TextDumpWriter>(sink, go_minor, level, grouped);
}

void write_goroutine_dump(GoroutineDumpBuilder& builder, DumpRequest& request, GoroutineWaits& waits,
                          std::string_view go_version, size_t threads, int go_minor, DumpSink& sink) {
  const bool json = request.format == "json";
  const bool diff = request.old_dump.has_value();
  auto writer = make_goroutine_dump_writer(request.format, sink, go_minor, request.level, request.group);
  GoroutineFilter filter(request.filter);
  GoroutineGrouper grouper(request.level);
  if (!diff) writer->begin(request.header, go_version, threads, request.origin_fields);
  GoroutineDump g;
  std::string wait_fields;
  size_t kept = 0;
  for (size_t i = 0; i < builder.size(); ++i) {
    builder.build(i, g);
    if (!filter.keeps(g, request.level)) continue;
    ++kept;
    if (request.waits) wait_fields = waits.add(g, json);
    if (request.group || diff) grouper.add(g);
    if (!diff) writer->add(g, wait_fields);
  }
  const std::string summary = request.waits && !json ? "\n" + waits.summary_text() : "";
  if (diff) {
    auto d = diff_goroutine_dumps(std::move(*request.old_dump), request.diff_path, grouper.take_groups(), kept,
                                  request.origin);
    sink.write(json ? format_goroutine_diff_json(d) : format_goroutine_diff_text(d));
    sink.write(summary);
    return;
  }
  std::vector<GoroutineGroup> groups;
  if (request.group) groups = grouper.take_groups();
  writer->end(request.group ? &groups : nullptr, summary);
}

}  // namespace goperf::profiler

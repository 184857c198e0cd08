// Reads a goroutine dump's JSON (profiler/dump/goroutine_dump_json.cpp, and the core's {"header", "dump"} around
// it) goroutine by goroutine into a GoroutineGrouper: no goroutine is kept.
#include "profiler/dump/goroutine_dump_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

#include "profiler/dump/json_reader.h"

namespace goperf::profiler {

namespace {

// The strings one goroutine's views point into, reused from goroutine to goroutine (a deque: its
// elements never move, so the views stay valid while more strings are added).
class StringPool {
 public:
  void reset() { used_ = 0; }
  std::string& next() {
    if (used_ == pool_.size()) pool_.emplace_back();
    return pool_[used_++];
  }

 private:
  std::deque<std::string> pool_;
  size_t used_ = 0;
};

bool read_frame(JsonReader& r, DumpFrame& f, StringPool& pool, std::string_view& key) {
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    if (key == "function" || key == "file") {
      ok = r.read_string_view(key == "function" ? f.function : f.file, pool.next());
    } else if (key == "line") {
      int64_t v = 0;
      ok = r.read_int(v);
      f.line = static_cast<int>(v);
    } else if (key == "inlined") {
      ok = r.read_bool(f.inlined);
    } else if (key == "go") {
      ok = r.read_bool(f.is_go);
    } else if (key == "shown") {
      ok = r.read_bool(f.shown);
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_creator(JsonReader& r, GoroutineDump& g, StringPool& pool, std::string_view& key) {
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    if (key == "function" || key == "file") {
      ok = r.read_string_view(key == "function" ? g.creator : g.creator_file, pool.next());
    } else if (key == "line") {
      int64_t v = 0;
      ok = r.read_int(v);
      g.creator_line = static_cast<int>(v);
    } else if (key == "shown") {
      ok = r.read_bool(g.creator_shown);
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_goroutine(JsonReader& r, GoroutineDump& g, StringPool& pool, std::string_view& key) {
  pool.reset();
  std::vector<DumpFrame> frames = std::move(g.frames);  // its capacity is reused
  frames.clear();
  g = GoroutineDump();
  g.frames = std::move(frames);
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    int64_t v = 0;
    if (key == "id") {
      ok = r.read_int(v);
      g.goid = static_cast<uint64_t>(v);
    } else if (key == "status") {
      ok = r.read_string_view(g.status_text, pool.next());
    } else if (key == "wait_minutes") {
      ok = r.read_int(g.wait_minutes);
    } else if (key == "locked_to_thread") {
      ok = r.read_bool(g.locked_to_thread);
    } else if (key == "system") {
      ok = r.read_bool(g.system);
    } else if (key == "frames") {
      ok = r.begin_array();
      while (ok && r.next_element()) ok = read_frame(r, g.frames.emplace_back(), pool, key);
      ok = ok && !r.failed();
    } else if (key == "created_by") {
      ok = read_creator(r, g, pool, key);
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_origin(JsonReader& r, DumpOrigin& o, std::string_view& key) {
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    if (key == "pid") ok = r.read_int(o.pid);
    else if (key == "taken_at") ok = r.read_double(o.taken_at);
    else if (key == "process_started_at") ok = r.read_double(o.process_started_at);
    else ok = r.skip();
    if (!ok) return false;
  }
  return !r.failed();
}

// The dump object: {"go_version", "origin", "threads", "goroutines": [...], "groups"?}.
bool read_dump(JsonReader& r, RecordedDump& out, GoroutineGrouper& grouper, bool& has_goroutines) {
  std::string_view key;
  StringPool pool;
  GoroutineDump g;
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    if (key == "go_version") {
      ok = r.read_string(out.go_version);
    } else if (key == "origin") {
      ok = read_origin(r, out.origin, key);
    } else if (key == "goroutines") {
      has_goroutines = true;
      ok = r.begin_array();
      while (ok && r.next_element()) {
        ok = read_goroutine(r, g, pool, key);
        if (ok) grouper.add(g);
        if (ok) ++out.goroutines;
      }
      ok = ok && !r.failed();
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  return !r.failed();
}

// A core's JSON: {"header": {"pid", ...}, "dump": {...}}.
bool read_core_json(JsonReader& r, RecordedDump& out, GoroutineGrouper& grouper, bool& has_goroutines) {
  std::string_view key;
  if (!r.begin_object()) return false;
  while (r.next_key(key)) {
    bool ok;
    if (key == "dump") ok = read_dump(r, out, grouper, has_goroutines);
    else if (key == "header") ok = read_origin(r, out.origin, key);
    else ok = r.skip();
    if (!ok) return false;
  }
  return !r.failed();
}

// The file mapped (dumps of 100,000 goroutines are 200 MB: no copy, no zeroed buffer).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    opened_ = ::fstat(fd, &st) == 0;
    if (opened_ && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      opened_ = p != MAP_FAILED;
      if (opened_) {
        data_ = static_cast<const char*>(p);
        size_ = static_cast<size_t>(st.st_size);
        ::madvise(p, size_, MADV_SEQUENTIAL);
      }
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool opened() const { return opened_; }
  std::string_view text() const { return {data_ == nullptr ? "" : data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  bool opened_ = false;
};

}  // namespace

Result<RecordedDump> read_goroutine_dump_json(const std::string& path, TracebackLevel level) {
  errno = 0;
  MappedFile file(path);
  if (!file.opened()) return Error(ErrorCode::kNotFound, "cannot read " + path + ": " + std::strerror(errno));
  const std::string_view text = file.text();
  RecordedDump out;
  GoroutineGrouper grouper(level);
  bool has_goroutines = false;
  // A core's dump starts with its header; a snapshot's is the dump object itself.
  const bool core = text.starts_with("{\"header\":");
  JsonReader r(text);
  bool ok = core ? read_core_json(r, out, grouper, has_goroutines) : read_dump(r, out, grouper, has_goroutines);
  if (!ok || !r.at_end())
    return Error(ErrorCode::kFormat, path + " is not a goroutine dump of goperf snapshot or core --format json: " +
                                         (r.failed() ? r.error() : std::string("text after the dump")));
  if (!has_goroutines)
    return Error(ErrorCode::kFormat, path + " is not a goroutine dump of goperf snapshot or core --format json: no \"goroutines\"");
  out.groups = grouper.take_groups();
  return out;
}

}  // namespace goperf::profiler

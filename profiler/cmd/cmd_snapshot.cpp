// goperf snapshot: stop a live Go process for as short a time as possible, copy its goroutine list and
// stacks, resume it, then walk, symbolize and print every goroutine as the runtime's SIGQUIT dump.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "profiler/commands.h"
#include "profiler/process_owner.h"
#include "profiler/dump/dump_origin.h"
#include "profiler/dump/goroutine_dump.h"
#include "profiler/dump/goroutine_dump_writer.h"
#include "profiler/dump/goroutine_waits.h"
#include "profiler/dump/snapshot_capture.h"
#include "profiler/options/snapshot_options.h"
#include "unwind/address_space.h"
#include "unwind/go_target.h"
#include "unwind/process_memory.h"
#include "unwind/signal_frame.h"

namespace goperf::profiler {

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "goperf snapshot: %s\n", message.c_str());
  return 1;
}

// What the output asks for. --diff's file is read here, before the stop, so that a bad file stops nothing.
Status make_request(const SnapshotOptions& o, DumpRequest& r) {
  r.format = o.format;
  r.filter = o.filter;
  r.group = o.group;
  r.waits = o.waits;
  r.level = o.system ? TracebackLevel::kSystem : TracebackLevel::kAll;
  if (o.diff.empty()) return {};
  auto old = read_goroutine_dump_json(o.diff, r.level);
  if (!old) return std::move(old).error();
  r.old_dump = std::move(*old);
  r.diff_path = o.diff;
  return {};
}

// Walks and symbolizes the copies goroutine by goroutine, straight into the output.
Status build_and_write(const unwind::GoTarget& target, const SnapshotCapture& capture, DumpRequest& request,
                       const std::string& output) {
  DumpInput in;
  in.memory = &capture.memory;
  in.space = target.space();
  in.target = &target;
  in.layout = &target.layout();
  in.threads = capture.threads;
  // A thread stopped inside the Go signal handler (most often a preemption signal's) runs the goroutine it
  // interrupted: shown from where the signal hit, as a core's threads are.
  for (auto& th : in.threads) unwind::cross_signal_frames(capture.memory, *target.space(), th.regs);
  in.list = &capture.list;
  in.now_nanotime = capture.now_nanotime;
  in.go_version = target.go_version();
  in.go_minor = target.go_minor();
  auto builder = GoroutineDumpBuilder::create(in);
  if (!builder) return std::move(builder).error();
  int fd = STDOUT_FILENO;
  if (!output.empty()) {
    fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return make_error(ErrorCode::kIo, "cannot write " + output + ": " + std::strerror(errno));
  }
  DumpSink sink(fd);
  // Live: sudogs and channels were not copied; the words every waiting goroutine needs are read ahead.
  GoroutineWaits waits(*target.process_memory(), in.go_minor, capture.now_nanotime);
  if (request.waits) waits.prefetch(capture.list);
  write_goroutine_dump(**builder, request, waits, in.go_version, in.threads.size(), in.go_minor, sink);
  bool written = sink.ok();
  if (fd != STDOUT_FILENO) written = ::close(fd) == 0 && written;
  if (!written) return make_error(ErrorCode::kIo, "cannot write " + (output.empty() ? std::string("the output") : output));
  return {};
}

}  // namespace

int run_snapshot(const Args& args) {
  SnapshotOptions o;
  if (!parse_snapshot_options(args, o)) return 0;
  PhaseTimer timer;
  // Another user's process: say whose and the real change, before /proc answers "Permission denied".
  if (auto advice = other_user_advice(o.pid, "snapshot -p " + std::to_string(o.pid)); !advice.empty())
    return fail(advice);
  // Everything that needs no stop happens first: files, pclntab, runtime globals, the layout's check.
  auto target = unwind::GoTarget::open_process(o.pid);
  if (!target) return fail(target.error().message());
  if (!(*target)->layout_note().empty()) std::fprintf(stderr, "goperf snapshot: %s\n", (*target)->layout_note().c_str());
  DumpRequest request;
  if (auto st = make_request(o, request); !st) return fail(st.error().message());
  timer.mark("setup");

  SnapshotCapture capture((*target)->process_memory());
  if (auto st = capture_stopped_process(**target, capture, timer); !st) return fail(st.error().message());
  timer.mark("pause");

  request.origin = live_dump_origin(o.pid);
  if (!request.old_dump) request.origin_fields = dump_origin_json_field(request.origin);
  if (auto st = build_and_write(**target, capture, request, o.output); !st) return fail(st.error().message());
  timer.mark("output");
  // Frames in a file that could not be shown to be the one mapped were left unnamed (unwind/mapped_file.h).
  for (const auto& why : (*target)->space()->open_failures())
    std::fprintf(stderr, "goperf snapshot: warning: %s: its frames are unknown\n", why.message().c_str());
  if (!o.quiet)
    std::fprintf(stderr, "goperf snapshot: %s paused for %.3f ms (%zu threads, %zu goroutines)\n",
                 (*target)->who().c_str(), static_cast<double>(capture.paused_ns) / 1e6, capture.threads.size(),
                 capture.list.goroutines.size());
  return 0;
}

}  // namespace goperf::profiler

// Goroutine grouping, the dump JSON read back (JsonReader, read_goroutine_dump_json) and the diff of two dumps.
#include "profiler/dump/goroutine_groups.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "profiler/dump/goroutine_diff.h"
#include "profiler/dump/goroutine_dump_reader.h"
#include "profiler/dump/goroutine_filter.h"
#include "profiler/dump/json_reader.h"

namespace goperf::profiler {
namespace {

GoroutineDump goroutine(uint64_t id, std::string_view state, std::vector<DumpFrame> frames, int creator_line = 10,
                        int64_t minutes = 0) {
  GoroutineDump g;
  g.goid = id;
  g.status_text = state;
  g.frames = std::move(frames);
  g.creator = "main.main";
  g.creator_file = "/src/main.go";
  g.creator_line = creator_line;
  g.wait_minutes = minutes;
  return g;
}

DumpFrame frame(std::string_view fn, int line, std::string_view args = "", uint64_t pc = 0, bool shown = true) {
  DumpFrame f;
  f.function = fn;
  f.file = "/src/main.go";
  f.line = line;
  f.args = args;
  f.pc = pc;
  f.shown = shown;
  return f;
}

TEST(GoroutineGrouperTest, SameStateAndFramesIgnoringArgumentsAndPcs) {
  GoroutineGrouper grouper;
  grouper.add(goroutine(5, "chan receive", {frame("main.a", 3, "0x1", 0x100), frame("main.b", 7)}, 10, 2));
  grouper.add(goroutine(6, "chan receive", {frame("main.a", 3, "0x2", 0x104), frame("main.b", 7)}, 10, 5));
  grouper.add(goroutine(7, "chan receive", {frame("main.a", 3), frame("main.b", 8)}));        // another line
  grouper.add(goroutine(8, "select", {frame("main.a", 3), frame("main.b", 7)}));              // another state
  grouper.add(goroutine(9, "chan receive", {frame("main.a", 3), frame("main.b", 7)}, 11));    // another creator
  grouper.add(goroutine(10, "chan receive", {frame("main.a", 3), frame("main.b", 7)}, 10, 1));
  auto groups = grouper.take_groups();
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].ids, (std::vector<uint64_t>{5, 6, 10}));
  EXPECT_EQ(groups[0].min_wait_minutes, 1);
  EXPECT_EQ(groups[0].max_wait_minutes, 5);
  // Equal sizes keep the dump's order.
  EXPECT_EQ(groups[1].ids, (std::vector<uint64_t>{7}));
  EXPECT_EQ(groups[2].ids, (std::vector<uint64_t>{8}));
  EXPECT_EQ(groups[3].ids, (std::vector<uint64_t>{9}));
  for (const auto& g : groups) EXPECT_EQ(goroutine_group_key(g), g.key);
  std::string text = format_goroutine_groups_text(groups);
  EXPECT_EQ(text.substr(0, text.find('\n')), "3 goroutines [chan receive, 1-5 minutes]: 5 6 10");
}

TEST(GoroutineGrouperTest, LevelAllIgnoresHiddenFramesAndSystemGoroutines) {
  GoroutineGrouper grouper(TracebackLevel::kAll);
  grouper.add(goroutine(1, "chan receive", {frame("runtime.gopark", 400, "", 0, false), frame("main.a", 3)}));
  grouper.add(goroutine(2, "chan receive", {frame("runtime.chanrecv", 500, "", 0, false), frame("main.a", 3)}));
  auto sys = goroutine(3, "GC worker (idle)", {frame("runtime.gcBgMarkWorker", 1)});
  sys.system = true;
  grouper.add(sys);
  auto groups = grouper.take_groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].ids.size(), 2u);
  ASSERT_EQ(groups[0].frames.size(), 1u);
  EXPECT_EQ(groups[0].frames[0].function, "main.a");
}

TEST(GoroutineGrouperTest, IdsAbbreviatedPastEight) {
  GoroutineGrouper grouper;
  for (uint64_t i = 1; i <= 12; ++i) grouper.add(goroutine(i, "sleep", {frame("time.Sleep", 1)}));
  std::string text = format_goroutine_groups_text(grouper.take_groups());
  EXPECT_EQ(text.substr(0, text.find('\n')), "12 goroutines [sleep]: 1 2 3 4 5 6 7 8 ... (4 more)");
}

TEST(GoroutineFilterTest, FunctionsFilesAndCreator) {
  GoroutineFilter by_function("main\\.b$"), by_creator("^main\\.main$"), none("nothing");
  auto g = goroutine(1, "sleep", {frame("main.a", 3), frame("main.b", 4)});
  EXPECT_TRUE(by_function.keeps(g));
  EXPECT_TRUE(by_creator.keeps(g));
  EXPECT_FALSE(none.keeps(g));
  EXPECT_TRUE(GoroutineFilter("").keeps(g));
  EXPECT_FALSE(check_goroutine_filter("(").empty());
  EXPECT_TRUE(check_goroutine_filter("a|b").empty());
}

TEST(JsonReaderTest, EscapesNumbersAndSkipping) {
  JsonReader r(R"( {"a": "x\"\\\/\n\u00e9\ud83d\ude00", "skip": [1, {"k": [true, null, -2.5e3]}], "n": -42} )");
  std::string_view key;
  std::string s;
  int64_t n = 0;
  ASSERT_TRUE(r.begin_object());
  ASSERT_TRUE(r.next_key(key));
  EXPECT_EQ(key, "a");
  ASSERT_TRUE(r.read_string(s));
  EXPECT_EQ(s, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  ASSERT_TRUE(r.next_key(key));
  ASSERT_TRUE(r.skip());
  ASSERT_TRUE(r.next_key(key));
  ASSERT_TRUE(r.read_int(n));
  EXPECT_EQ(n, -42);
  EXPECT_FALSE(r.next_key(key));
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.at_end());
  JsonReader bad(R"({"a": "unterminated)");
  ASSERT_TRUE(bad.begin_object());
  ASSERT_TRUE(bad.next_key(key));
  EXPECT_FALSE(bad.read_string(s));
  EXPECT_TRUE(bad.failed());
}

std::string write_dump(const std::vector<GoroutineDump>& gs, const DumpOrigin& origin) {
  std::string json;
  append_goroutine_dump_json_head(json, "go1.26", 3, dump_origin_json_field(origin));
  for (size_t i = 0; i < gs.size(); ++i) append_goroutine_dump_json(json, gs[i], i == 0);
  append_goroutine_dump_json_tail(json);
  std::string path = testing::TempDir() + "/goroutine_groups_test.json";
  std::ofstream(path) << json;
  return path;
}

TEST(GoroutineDiffTest, ReadBackAndDiff) {
  DumpOrigin before{1234, 1000.0, 500.25};
  std::vector<GoroutineDump> old_gs = {goroutine(1, "chan receive", {frame("main.a", 3, "0x1")}),
                                       goroutine(2, "chan receive", {frame("main.a", 3)}),
                                       goroutine(3, "select", {frame("main.gone", 9)})};
  auto old = read_goroutine_dump_json(write_dump(old_gs, before), TracebackLevel::kSystem);
  ASSERT_TRUE(old.ok()) << old.error().message();
  EXPECT_EQ(old->goroutines, 3u);
  EXPECT_EQ(old->origin.pid, 1234);
  ASSERT_EQ(old->groups.size(), 2u);

  GoroutineGrouper now;
  now.add(goroutine(2, "chan receive", {frame("main.a", 3)}));
  for (uint64_t i = 100; i < 150; ++i) now.add(goroutine(i, "chan receive", {frame("main.leak", 71)}));
  DumpOrigin after{1234, 1012.5, 500.25};
  auto diff = diff_goroutine_dumps(std::move(*old), "old.json", now.take_groups(), 51, after);
  EXPECT_TRUE(diff.same_process);
  EXPECT_DOUBLE_EQ(diff.seconds_between, 12.5);
  ASSERT_EQ(diff.changes.size(), 3u);
  EXPECT_EQ(diff.changes[0].change(), 50);
  EXPECT_EQ(diff.changes[0].group.frames[0].function, "main.leak");
  EXPECT_EQ(diff.changes[1].change(), -1);
  EXPECT_EQ(diff.changes[1].stuck, (std::vector<uint64_t>{2}));
  EXPECT_EQ(diff.changes[2].change(), -1);
  EXPECT_EQ(diff.changes[2].new_count, 0u);
  std::string text = format_goroutine_diff_text(diff);
  EXPECT_NE(text.find("+50 [chan receive]: 0 -> 50, new group\nmain.leak(...)"), std::string::npos) << text;
  // Another process with the same pid: nothing can be stuck.
  auto again = read_goroutine_dump_json(write_dump(old_gs, before), TracebackLevel::kSystem);
  ASSERT_TRUE(again.ok());
  DumpOrigin other{1234, 1012.5, 900.0};
  GoroutineGrouper now2;
  now2.add(goroutine(2, "chan receive", {frame("main.a", 3)}));
  auto diff2 = diff_goroutine_dumps(std::move(*again), "old.json", now2.take_groups(), 1, other);
  EXPECT_FALSE(diff2.same_process);
  for (const auto& c : diff2.changes) EXPECT_TRUE(c.stuck.empty());
}

TEST(GoroutineDiffTest, NotADump) {
  std::string path = testing::TempDir() + "/not_a_dump.json";
  std::ofstream(path) << "{\"go_version\": \"go1.26\", \"threads\": 3}";
  auto r = read_goroutine_dump_json(path, TracebackLevel::kSystem);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no \"goroutines\""), std::string::npos);
  auto missing = read_goroutine_dump_json(testing::TempDir() + "/absent.json", TracebackLevel::kSystem);
  ASSERT_FALSE(missing.ok());
}

}  // namespace
}  // namespace goperf::profiler

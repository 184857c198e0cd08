// Unit tests of goperf record's pieces that need no target: event names, options, kallsyms parsing.
#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "profiler/record/perf_event_spec.h"
#include "profiler/record/record_kernel_symbols.h"
#include "profiler/options/record_options.h"

namespace goperf::profiler {
namespace {

TEST(EventSpec, PerfNames) {
  auto cpu = resolve_event("cpu-clock");
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->type, PERF_TYPE_SOFTWARE);
  EXPECT_EQ(cpu->config, PERF_COUNT_SW_CPU_CLOCK);
  EXPECT_TRUE(cpu->time_based);
  auto cycles = resolve_event("cycles");
  ASSERT_TRUE(cycles);
  EXPECT_EQ(cycles->type, PERF_TYPE_HARDWARE);
  EXPECT_FALSE(cycles->time_based);
  auto task = resolve_event("task-clock");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->config, PERF_COUNT_SW_TASK_CLOCK);
}

TEST(EventSpec, LibpfmNames) {
  // libpfm4's generic perf PMU knows the software events by their kernel names.
  auto e = resolve_event("PERF_COUNT_SW_CPU_CLOCK");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->type, PERF_TYPE_SOFTWARE);
  EXPECT_EQ(e->config, PERF_COUNT_SW_CPU_CLOCK);
  EXPECT_TRUE(e->time_based);
}

TEST(EventSpec, UnknownName) {
  auto e = resolve_event("no-such-event");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(e.error().message().find("unknown event 'no-such-event'"), std::string::npos);
}

TEST(EventSpec, DefaultFallsBackWhenCyclesCannotOpen) {
  std::string note;
  auto e = default_event(&note);
  if (e.name == "cycles") {
    EXPECT_TRUE(note.empty());
  } else {
    EXPECT_EQ(e.name, "cpu-clock");
    EXPECT_NE(note.find("cpu-clock"), std::string::npos);
  }
}

TEST(RecordOptions, PidsCommandAndDefaults) {
  RecordOptions o;
  ASSERT_TRUE(parse_record_options({"-p", "12,34", "-p", "56"}, o));
  EXPECT_EQ(o.pids, (std::vector<uint32_t>{12, 34, 56}));
  EXPECT_EQ(o.frequency_hz, 99u);
  EXPECT_EQ(o.backend, "auto");
  RecordOptions c;
  ASSERT_TRUE(parse_record_options({"-F", "999", "-d", "2.5", "--", "prog", "-F", "x"}, c));
  EXPECT_EQ(c.command, (std::vector<std::string>{"prog", "-F", "x"}));
  EXPECT_EQ(c.frequency_hz, 999u);
  EXPECT_DOUBLE_EQ(c.duration_s, 2.5);
}

TEST(RecordOptions, Errors) {
  RecordOptions o;
  EXPECT_THROW(parse_record_options({}, o), boost::program_options::error);
  EXPECT_THROW(parse_record_options({"-p", "1", "--", "x"}, o), boost::program_options::error);
  EXPECT_THROW(parse_record_options({"-p", "abc"}, o), boost::program_options::error);
  // An empty entry is refused, not skipped: -p $A,$B with $A unset must not sample only $B.
  for (const char* list : {"1,,2", "1,", ",1", ","}) {
    EXPECT_THROW(parse_record_options({"-p", list}, o), boost::program_options::error) << list;
  }
  EXPECT_THROW(parse_record_options({"-p", "1", "--backend", "dtrace"}, o), boost::program_options::error);
  EXPECT_THROW(parse_record_options({"-p", "1", "-F", "0"}, o), boost::program_options::error);
}

TEST(KernelSymbols, ParsesTextSymbolsAndHiddenAddresses) {
  std::string path = testing::TempDir() + "/kallsyms";
  {
    std::ofstream f(path);
    f << "ffffffff81000000 T _stext\n"
      << "ffffffff81000100 t helper\n"
      << "ffffffff81000200 D some_data\n"
      << "ffffffff81000300 T do_syscall_64\t[kvm]\n";
  }
  KernelSymbols k(path);
  ASSERT_TRUE(k.readable());
  EXPECT_EQ(k.name(0xffffffff81000050), "_stext");
  EXPECT_EQ(k.name(0xffffffff81000250), "helper");  // data symbols do not end functions
  EXPECT_EQ(k.name(0xffffffff81000310), "do_syscall_64");
  EXPECT_EQ(k.name(0x1000), "[kernel]");
  {
    std::ofstream f(path);
    f << "0000000000000000 T _stext\n0000000000000000 T helper\n";
  }
  KernelSymbols hidden(path);
  EXPECT_FALSE(hidden.readable());
  EXPECT_EQ(hidden.name(0xffffffff81000050), "[kernel]");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace goperf::profiler

// libFuzzer target: CoreFile over arbitrary bytes (ELF headers, program headers, every note it parses), and
// CoreMemory reads over the result. Files the fuzzed NT_FILE names are never opened (the sysroot is absent).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "unwind/core_executable.h"
#include "unwind/core_file.h"
#include "unwind/core_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace goperf::unwind;
  auto core = CoreFile::from_bytes(std::span<const uint8_t>(data, size), "fuzz");
  if (!core) return 0;
  const CoreFile& c = **core;
  (void)c.crashing_thread();
  (void)c.executable_mapping();
  (void)c.auxv_value(9);
  auto mem = CoreMemory::create(*core, {"", "/nonexistent-goperf-fuzz-sysroot"});
  if (!mem) return 0;
  std::vector<uint8_t> buf(64);
  for (const auto& s : c.segments()) {
    (void)(*mem)->read(s.vaddr, buf);
    (void)(*mem)->read(s.vaddr + s.memsz - 1, std::span<uint8_t>(buf.data(), 1));
    (void)(*mem)->read_dumped(s.vaddr + s.filesz / 2, buf);
  }
  for (const auto& t : c.threads()) {
    (void)(*mem)->read(t.regs.sp, buf);
    (void)(*mem)->read(t.regs.tls_base - 8, std::span<uint8_t>(buf.data(), 8));
  }
  (void)(*mem)->read(~uint64_t{0} - 8, buf);  // wraps around the address space
  return 0;
}

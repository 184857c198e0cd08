// WordCache: a Memory decorator that keeps 8-byte words read ahead in batches, so that reading one field
// of each of 100,000 heap objects (g.waiting, a sudog's channel) costs a few process_vm_readv calls of
// many small ranges instead of a page read and a page of memory per object.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "unwind/memory.h"

namespace goperf::unwind {

class ProcessMemory;

// Reads the 8-byte word at addrs[i] into out[i] (ok[i]: whether it could be read) with one range per run of
// ascending addresses in one page, IOV_MAX ranges per process_vm_readv; no copy of the pages is kept.
// Addresses in about ascending order (objects read in allocation order) give few ranges.
void read_words(const ProcessMemory& memory, std::span<const uint64_t> addrs, std::span<uint64_t> out,
                std::span<bool> ok);

class WordCache final : public Memory {
 public:
  // `backing` answers whatever was not read ahead; `batch`, when not null, is the same process's memory
  // and reads the words ahead with many ranges per system call (else they are read one by one).
  WordCache(const Memory* backing, const ProcessMemory* batch);

  // Reads the words at `addrs` (duplicates allowed) and keeps those that could be read.
  void prefetch(std::span<const uint64_t> addrs);
  // A kept word when [addr, addr + out.size()) lies in one, else the backing.
  Status read(uint64_t addr, std::span<uint8_t> out) const override;

 private:
  const uint64_t* find(uint64_t addr) const;
  void insert(uint64_t addr, uint64_t value);
  void reserve(size_t words);

  const Memory* backing_;
  const ProcessMemory* batch_;
  // Open addressing, linear probing, keys never 0 (address 0 is never read ahead).
  struct Slot {
    uint64_t key = 0, value = 0;  // together: one cache miss per lookup
  };
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

}  // namespace goperf::unwind

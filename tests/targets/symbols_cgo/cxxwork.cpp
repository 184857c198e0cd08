// C++ code with mangled names (namespace, overloads, a template), for addr2line -C.
#include "native.h"

namespace goperf_target {

template <typename T>
__attribute__((noinline)) T twice(T v) { return v + v; }

struct Accumulator {
  __attribute__((noinline)) int add(int v) { total += v; return total; }
  __attribute__((noinline)) int add(int a, int b) { return add(a) + add(b); }
  int total = 0;
};

}  // namespace goperf_target

extern "C" int cxx_work(int n) {
  goperf_target::Accumulator acc;
  return acc.add(n, 2) + goperf_target::twice<long>(n) + static_cast<int>(goperf_target::twice<double>(1.5));
}

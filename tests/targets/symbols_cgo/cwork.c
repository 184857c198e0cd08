// C code linked into the Go program: a static helper, an exported entry and a call back into Go.
#include "native.h"
#include "_cgo_export.h"

static int __attribute__((noinline)) c_helper(int n) { return n * 7 + 1; }

int c_work(int n) { return c_helper(n) + goCallback(n); }

// The cgo part of waits: makes the program a cgo program (runtime/cgo, an externally linked binary)
// without changing what its goroutines wait on.
package main

/*
static int cgo_ready(void) { return 1; }
*/
import "C"

func init() { cgoLinked = C.cgo_ready() == 1 }

// Command crash_cgo dies with SIGSEGV inside a C function called through cgo (run it with
// GOTRACEBACK=crash), after parking goroutines in known states.
package main

/*
#include <stddef.h>

static volatile int *crash_target;

__attribute__((noinline)) static int crash_in_c_leaf(int depth) {
	return *crash_target + depth;
}

__attribute__((noinline)) int crash_in_c(int depth) {
	if (depth > 0) return crash_in_c(depth - 1) + 1;
	return crash_in_c_leaf(depth);
}
*/
import "C"

import (
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	never = make(chan int)
	sink  int
)

//go:noinline
func blockRecv() { sink += <-never }

//go:noinline
func blockMutex() {
	mu.Lock()
	sink++
	mu.Unlock()
}

//go:noinline
func callC() int { return int(C.crash_in_c(3)) }

func main() {
	mu.Lock()
	go blockRecv()
	go blockMutex()
	time.Sleep(200 * time.Millisecond)
	sink += callC()
}

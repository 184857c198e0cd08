// The cgo part of hang: one goroutine blocked inside a C call (its thread sits in libc's sleep).
package main

/*
#include <unistd.h>

static void block_in_c(void) {
	for (;;) sleep(1000);
}
*/
import "C"

//go:noinline
func cgoBlocker() {
	started.Done()
	C.block_in_c()
}

func init() { startCgo = cgoBlocker }

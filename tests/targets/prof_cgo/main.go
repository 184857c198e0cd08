// prof_cgo: a hot loop inside a C function called through cgo:
// main.main -> main.hotC -> main._Cfunc_hot_loop -> runtime.cgocall -> (g0) hot_loop.
// -two: main.hotC and main.hotC2 -> main._Cfunc_hot_loop2 -> ... hot_loop2 in turn, two calls made at the
// same stack depth from different callers (each C function has its own caller).
// -nofp: main.hotCNoFP -> hot_loop_nofp, C code no frame-pointer walk gets past.
// -cpuprofile FILE writes runtime/pprof's CPU profile of the same run.
package main

/*
#cgo CFLAGS: -O2 -fno-omit-frame-pointer
#include <stdint.h>

__attribute__((noinline)) uint64_t hot_loop(uint64_t n, uint64_t x) {
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		x ^= x >> 29;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

__attribute__((noinline)) uint64_t hot_loop2(uint64_t n, uint64_t x) {
	for (uint64_t i = 0; i < n; i++) {
		x = x * 2862933555777941757ULL + 3037000493ULL;
		x ^= x >> 31;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

// hot_loop_nofp: hot_loop in a function without a frame record whose loop clobbers the frame-pointer
// register, as C code built without frame pointers may: no frame-pointer walk gets past it.
__attribute__((noinline, optimize("omit-frame-pointer"))) uint64_t hot_loop_nofp(uint64_t n, uint64_t x) {
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		x ^= x >> 29;
#if defined(__x86_64__)
		__asm__ volatile("xor %%ebp, %%ebp" : "+r"(x) : : "rbp");
#elif defined(__aarch64__)
		__asm__ volatile("mov x29, xzr" : "+r"(x) : : "x29");
#endif
	}
	return x;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func hotC(x uint64) uint64 {
	return uint64(C.hot_loop(C.uint64_t(200000), C.uint64_t(x)))
}

// The same frame as hotC's, so that both C calls are made at one depth of the goroutine's stack.
//
//go:noinline
func hotC2(x uint64) uint64 {
	return uint64(C.hot_loop2(C.uint64_t(200000), C.uint64_t(x)))
}

//go:noinline
func hotCNoFP(x uint64) uint64 {
	return uint64(C.hot_loop_nofp(C.uint64_t(200000), C.uint64_t(x)))
}

func main() {
	seconds := flag.Float64("seconds", 3, "how long to run")
	cpuprofile := flag.String("cpuprofile", "", "write runtime/pprof's CPU profile here")
	cpuhz := flag.Int("cpuhz", 100, "runtime/pprof's sampling rate for -cpuprofile")
	two := flag.Bool("two", false, "call hot_loop and hot_loop2 in turn, from two callers")
	nofp := flag.Bool("nofp", false, "call hot_loop_nofp (no frame record, frame pointer clobbered) instead")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if *cpuhz != 100 {
			runtime.SetCPUProfileRate(*cpuhz) // kept by StartCPUProfile (which warns on stderr)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	fmt.Printf("ready %d\n", os.Getpid())
	var x uint64
	for time.Now().Before(deadline) {
		if *nofp {
			x += hotCNoFP(x)
			continue
		}
		x += hotC(x)
		if *two {
			x += hotC2(x)
		}
	}
	sink += x
}

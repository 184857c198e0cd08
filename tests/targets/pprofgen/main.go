// pprofgen writes a runtime/pprof CPU profile of known stacks, labelled with pprof.Do, for goperf report's
// tests: main.main -> main.run -> main.burnAlpha -> main.spinAlpha (worker=alpha) and the same for Beta
// (worker=beta), Beta running twice as long as Alpha.
//
// usage: pprofgen OUT.pb.gz [MILLISECONDS]
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink int

//go:noinline
func spinAlpha(n int) int {
	x := 1
	for i := 0; i < n; i++ {
		x = x*31 + i ^ x>>3
	}
	return x
}

//go:noinline
func spinBeta(n int) int {
	x := 2
	for i := 0; i < n; i++ {
		x = x*17 + i ^ x>>5
	}
	return x
}

// Burning until a CPU-time budget is used (not wall time) keeps the sample split stable on a busy machine.
//
//go:noinline
func burnAlpha(d time.Duration) {
	for start := cpuTime(); cpuTime()-start < d; {
		sink += spinAlpha(200000)
	}
}

//go:noinline
func burnBeta(d time.Duration) {
	for start := cpuTime(); cpuTime()-start < d; {
		sink += spinBeta(200000)
	}
}

//go:noinline
func run(ms int) {
	ctx := context.Background()
	pprof.Do(ctx, pprof.Labels("worker", "alpha"), func(context.Context) {
		burnAlpha(time.Duration(ms) * time.Millisecond)
	})
	pprof.Do(ctx, pprof.Labels("worker", "beta"), func(context.Context) {
		burnBeta(2 * time.Duration(ms) * time.Millisecond)
	})
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pprofgen OUT.pb.gz [MILLISECONDS]")
		os.Exit(2)
	}
	ms := 300
	if len(os.Args) > 2 {
		ms, _ = strconv.Atoi(os.Args[2])
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	run(ms)
	pprof.StopCPUProfile()
	f.Close()
}

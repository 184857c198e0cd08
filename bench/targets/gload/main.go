// gload: a fixed CPU workload beside -n idle goroutines, timed, for the cost of goroutine sampling.
// 90% of the goroutines wait on a channel for good, 10% wake every 100 ms (time.Sleep) for a little
// work, as in a server. The workload: -workers goroutines doing -rounds rounds of fixed work.
// -fgprof HZ samples the goroutines from inside at HZ for the workload's length, as fgprof does:
// fgprof.Start itself at 99 Hz (its fixed rate), fgprof's method (runtime.GoroutineProfile into a
// reused slice, once per tick) at any other rate. Prints "ready <pid>", waits for a line on stdin,
// then prints "elapsed <ns> cpu <ns>" of the workload (wall time, and the process's CPU time meanwhile).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/felixge/fgprof"
)

var sink uint64

//go:noinline
func work(units int) uint64 {
	x := uint64(1)
	for i := 0; i < units*100000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func idle(ch chan int) { <-ch }

func ticking(i int) {
	time.Sleep(time.Duration(i%100) * time.Millisecond)
	for {
		time.Sleep(100 * time.Millisecond)
		sink += work(1) & 1
	}
}

// fgprofMethod: fgprof's sampling loop (fgprof.go Start/GoroutineProfile) at another rate.
func fgprofMethod(hz int, stop <-chan struct{}) {
	ticker := time.NewTicker(time.Second / time.Duration(hz))
	defer ticker.Stop()
	stacks := make([]runtime.StackRecord, int(float64(runtime.NumGoroutine())*1.1))
	for {
		select {
		case <-ticker.C:
			for {
				n, ok := runtime.GoroutineProfile(stacks)
				if ok {
					sink += uint64(n)
					break
				}
				stacks = make([]runtime.StackRecord, int(float64(n)*1.1))
			}
		case <-stop:
			return
		}
	}
}

// cpuTime: this process's user+system time in ns (the workload's, fgprof's sampling included; a profiler
// outside the process shows here only through what it makes the target do: page faults, contention).
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func main() {
	n := flag.Int("n", 1000, "idle goroutines")
	workers := flag.Int("workers", 2, "workload goroutines")
	rounds := flag.Int("rounds", 200, "rounds of work per worker")
	fg := flag.Int("fgprof", 0, "sample the goroutines from inside at this rate (0: no)")
	flag.Parse()
	ch := make(chan int)
	for i := 0; i < *n; i++ {
		if i%10 == 9 {
			go ticking(i)
		} else {
			go idle(ch)
		}
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("ready %d\n", os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	stop := make(chan struct{})
	var stopFg func() error
	switch {
	case *fg == 99:
		stopFg = fgprof.Start(io.Discard, fgprof.FormatPprof)
	case *fg > 0:
		go fgprofMethod(*fg, stop)
	}
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < *rounds; r++ {
				sink += work(10)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	close(stop)
	if stopFg != nil {
		stopFg()
	}
	fmt.Printf("elapsed %d cpu %d\n", elapsed.Nanoseconds(), cpu)
}

// gstates: goroutines whose waits are known by construction, for goroutine-state profiles.
// Under pprof label "role": -k goroutines blocked on one channel (main.blockedOnChan), -m on a locked
// sync.Mutex (main.blockedOnMutex), -j sleeping (main.sleeper), -w workers alternating -cpu of busy work
// (main.busy) and -wait on a channel receive (main.worker), and goroutines created and exiting all the
// time (main.churn), and -nap goroutines asleep a millisecond at a time (main.napper). Once all are in place it writes the runtime's own dump (runtime.Stack of all
// goroutines) to -dump and prints "ready <pid>". The workers measure themselves from SIGUSR1 (or from
// ready, with -measure) to SIGTERM (or -d), then it prints "workers busy=<ns> wait=<ns>" (wall time
// in each phase, summed).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var sink uint64
var busyNs, waitNs int64

//go:noinline
func blockedOnChan(ch chan int) { <-ch }

//go:noinline
func blockedOnMutex(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func sleeper() { time.Sleep(time.Hour) }

// napper: asleep most of the time at the same place, woken every millisecond (sleep, runnable,
// running, sleep again), so that a profiler's ticks mostly find it asleep where it was before.
//
//go:noinline
func napper() {
	for {
		time.Sleep(time.Millisecond)
	}
}

//go:noinline
func busy(d time.Duration) {
	start := time.Now()
	x := uint64(1)
	for time.Since(start) < d {
		for i := 0; i < 2000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink += x
}

//go:noinline
func worker(cpu, wait time.Duration, measuring *atomic.Bool) {
	for {
		t0 := time.Now()
		busy(cpu)
		t1 := time.Now()
		<-time.After(wait)
		t2 := time.Now()
		if measuring.Load() {
			atomic.AddInt64(&busyNs, int64(t1.Sub(t0)))
			atomic.AddInt64(&waitNs, int64(t2.Sub(t1)))
		}
	}
}

//go:noinline
func churn() {
	for {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Millisecond)
			}()
		}
		wg.Wait()
	}
}

func role(name string, f func()) {
	go pprof.Do(context.Background(), pprof.Labels("role", name), func(context.Context) { f() })
}

func main() {
	k := flag.Int("k", 7, "goroutines blocked on one channel")
	m := flag.Int("m", 5, "goroutines blocked on a locked mutex")
	j := flag.Int("j", 3, "sleeping goroutines")
	w := flag.Int("w", 2, "workers")
	cpu := flag.Duration("cpu", 3*time.Millisecond, "a worker's busy phase")
	wait := flag.Duration("wait", 7*time.Millisecond, "a worker's channel wait")
	churners := flag.Int("churn", 1, "goroutines creating short-lived goroutines")
	nappers := flag.Int("nap", 0, "goroutines sleeping a millisecond at a time (main.napper)")
	dump := flag.String("dump", "", "write the runtime's goroutine dump here once ready")
	dur := flag.Duration("d", 0, "run time (0: until SIGTERM)")
	measureNow := flag.Bool("measure", false, "measure from ready on, not from SIGUSR1")
	flag.Parse()

	ch := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	var measuring atomic.Bool
	for i := 0; i < *k; i++ {
		role("chan", func() { blockedOnChan(ch) })
	}
	for i := 0; i < *m; i++ {
		role("mutex", func() { blockedOnMutex(&mu) })
	}
	for i := 0; i < *j; i++ {
		role("sleep", sleeper)
	}
	for i := 0; i < *w; i++ {
		role("worker", func() { worker(*cpu, *wait, &measuring) })
	}
	for i := 0; i < *churners; i++ {
		role("churn", churn)
	}
	for i := 0; i < *nappers; i++ {
		role("nap", napper)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		<-usr1
		measuring.Store(true)
	}()
	time.Sleep(300 * time.Millisecond) // every waiter parked (a mutex spins before it sleeps)
	if *dump != "" {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		if err := os.WriteFile(*dump, buf, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	measuring.Store(*measureNow)
	fmt.Printf("ready %d\n", os.Getpid())
	if *dur > 0 {
		select {
		case <-sigs:
		case <-time.After(*dur):
		}
	} else {
		<-sigs
	}
	measuring.Store(false)
	fmt.Printf("workers busy=%d wait=%d\n", atomic.LoadInt64(&busyNs), atomic.LoadInt64(&waitNs))
}

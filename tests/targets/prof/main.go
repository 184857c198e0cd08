// prof: CPU workloads whose hot stacks are known by construction, for goperf record's tests.
//
//	prof -mode inline      main.main -> main.inl (inlined) -> main.mid -> main.leaf (frameless)
//	prof -mode recursion   main.main -> main.recurse x30 -> main.spin (frameless)
//	prof -mode goroutines  8 goroutines, each locked to its own thread: main.worker -> main.crunch
//	prof -mode syscall     main.main -> main.sysloop -> getppid system calls
//	prof -mode clock       main.main -> main.clockloop -> time.Now (the vDSO, run on g0's stack)
//	prof -mode alloc       main.main -> main.allocloop -> main.churn: allocates short-lived lists, so the GC's
//	                       work runs on g0 (systemstack): assists under main.churn, gcBgMarkWorker goroutines
//	prof -mode stolen      main.main -> main.recurse x(-depth - 1) -> main.timedSpin: spins for -seconds reading
//	                       the clock between short runs of work, and prints how much of its time it lost to
//	                       interruptions (a profiler's sampling interrupts among them), measured per interruption
//
// -seconds bounds the run; -cpuprofile FILE writes runtime/pprof's CPU profile of the same run (the
// oracle for per-function shares), at -cpuhz samples per second of CPU time (runtime/pprof's 100 by
// default; more samples make the oracle's shares tighter). The program prints "ready <pid>" once the workload runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"syscall"
	"time"
	_ "unsafe" // go:linkname
)

var sink uint64

// leaf has no calls and no locals: the compiler gives it no frame (no BP push, pcsp 0 throughout).
//
//go:noinline
func leaf(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

//go:noinline
func mid(n int, x uint64) uint64 {
	return leaf(n, x) + leaf(n/2, x^7)
}

// inl is small enough to be inlined into main.main.
func inl(x uint64) uint64 {
	return mid(4000, x) ^ 3
}

//go:noinline
func spin(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = x*2862933555777941757 + 3037000493
		x ^= x >> 31
	}
	return x
}

//go:noinline
func recurse(depth int, x uint64) uint64 {
	if depth <= 1 {
		return spin(20000, x)
	}
	return recurse(depth-1, x+1) + 1
}

//go:noinline
func crunch(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1
		x ^= x >> 17
	}
	return x
}

//go:noinline
func worker(stop *bool, wg *sync.WaitGroup) {
	runtime.LockOSThread()
	defer wg.Done()
	var x uint64
	for !*stop {
		x = crunch(20000, x)
	}
	sink += x
}

//go:noinline
func sysloop(deadline time.Time) {
	for i := 0; ; i++ {
		for j := 0; j < 200; j++ {
			syscall.Getppid()
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

// The steps of fixedWork are named functions, not closures in main.main: a closure there would renumber
// main.main.func1, the wrapper Go 1.19 makes for `go worker(...)`, which the tests expect by name.
func inlineStep(x uint64) uint64    { return x + inl(x) }
func recursionStep(x uint64) uint64 { return x + recurse(30, x) }

// fixedWork runs step n times, for measuring a profiler's overhead as the slowdown of this loop, and
// prints the time taken and the process's CPU time (user+sys: the kernel's sampling work is charged to
// the sampled thread).
func fixedWork(n int, step func(uint64) uint64) uint64 {
	start := time.Now()
	var x uint64
	for i := 0; i < n; i++ {
		x = step(x)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Fprintf(os.Stderr, "elapsed %.6f cpu %.6f\n", time.Since(start).Seconds(), cpu.Seconds())
	return x
}

// nanotime is the runtime's monotonic clock (a vDSO read), without time.Now's wall-clock read.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// timedSpin runs spin in short steps and times each step. A step that took more than 2 us beyond the
// usual was interrupted (an interrupt, a signal, another thread on this CPU); what it took beyond the
// usual step is time the workload lost. It prints the lost time and the number of interruptions: under a
// sampling profiler, the difference to an unprofiled run is the profiler's cost in the sampled thread's
// own time, sample by sample, without the drift of the machine's speed that whole-run timings carry.
// "short" counts only interruptions under 200 us: an interrupt and what runs in it (a sample is about
// 20 us in a VM), not the other programs that took the CPU for milliseconds, whose share varies from run
// to run on a shared machine far more than a profiler's cost.
//
//go:noinline
func timedSpin(seconds float64) {
	const stepWork = 100
	// The usual step: the median of the first 20,000.
	steps := make([]int64, 20000)
	var x uint64
	prev := nanotime()
	for i := range steps {
		x = spin(stepWork, x)
		t := nanotime()
		steps[i] = t - prev
		prev = t
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	usual := steps[len(steps)/2]
	threshold := usual + 2000
	start := nanotime()
	deadline := start + int64(seconds*1e9)
	const short = 200000
	var lost, interruptions, count, lostShort, shortInterruptions int64
	prev = nanotime()
	for {
		x = spin(stepWork, x)
		t := nanotime()
		count++
		if d := t - prev; d > threshold {
			lost += d - usual
			interruptions++
			if d-usual < short {
				lostShort += d - usual
				shortInterruptions++
			}
			if t > deadline {
				break
			}
		}
		prev = t
	}
	elapsed := nanotime() - start
	sink += x
	fmt.Fprintf(os.Stderr, "elapsed %.6f lost %.6f interruptions %d short %.6f short_interruptions %d steps %d usual_ns %d\n",
		float64(elapsed)/1e9, float64(lost)/1e9, interruptions, float64(lostShort)/1e9, shortInterruptions, count, usual)
}

//go:noinline
func recurseThenTime(depth int, seconds float64) {
	if depth <= 1 {
		timedSpin(seconds)
		return
	}
	recurseThenTime(depth-1, seconds)
}

var clockSink int64

type cell struct {
	next *cell
	pad  [48]byte
}

// Keeps up to 64 lists alive at a time: the heap holds a few MB that the GC marks while churn allocates.
var lists [64]*cell

//go:noinline
func churn(n int) *cell {
	var head *cell
	for i := 0; i < n; i++ {
		head = &cell{next: head}
	}
	return head
}

func allocloop(deadline time.Time) {
	for i := 0; time.Now().Before(deadline); i++ {
		lists[i%len(lists)] = churn(2000)
	}
}

func clockloop(deadline time.Time) {
	for {
		for j := 0; j < 100; j++ {
			clockSink += time.Now().UnixNano()
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

func main() {
	mode := flag.String("mode", "inline", "inline, recursion, goroutines, syscall, clock, alloc or stolen")
	seconds := flag.Float64("seconds", 3, "how long to run")
	cpuprofile := flag.String("cpuprofile", "", "write runtime/pprof's CPU profile here")
	cpuhz := flag.Int("cpuhz", 100, "runtime/pprof's sampling rate for -cpuprofile")
	work := flag.Int("work", 0, "inline and recursion modes: run this many iterations instead of -seconds, then print the time taken")
	depth := flag.Int("depth", 30, "stolen mode: frames between main.main and main.timedSpin")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if *cpuhz != 100 {
			// Set before StartCPUProfile, whose own SetCPUProfileRate(100) then leaves it (with a warning
			// on stderr): the documented way to sample at another rate (runtime.SetCPUProfileRate).
			runtime.SetCPUProfileRate(*cpuhz)
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
	switch *mode {
	case "inline":
		if *work > 0 {
			x = fixedWork(*work, inlineStep)
			break
		}
		for time.Now().Before(deadline) {
			x += inl(x)
		}
	case "recursion":
		if *work > 0 {
			x = fixedWork(*work, recursionStep)
			break
		}
		for time.Now().Before(deadline) {
			x += recurse(30, x)
		}
	case "goroutines":
		var stop bool
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go worker(&stop, &wg)
		}
		time.Sleep(time.Until(deadline))
		stop = true
		wg.Wait()
	case "syscall":
		sysloop(deadline)
		// The kernel's own split of this process's CPU time: the oracle for a profile's kernel share.
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		fmt.Fprintf(os.Stderr, "user %.6f sys %.6f\n", time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
	case "clock":
		clockloop(deadline)
	case "alloc":
		allocloop(deadline)
	case "stolen":
		recurseThenTime(*depth, *seconds)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}
	sink += x
}

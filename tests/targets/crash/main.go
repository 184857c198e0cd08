// Command crash dies in a known stack so that its core can be compared with the runtime's own dump
// (run it with GOTRACEBACK=crash). Before dying it parks goroutines in known states. Modes:
//
//	nil       nil pointer dereference (SIGSEGV turned into a panic)
//	panic     an explicit panic
//	mapwrite  fatal error: concurrent map writes
//	deadlock  fatal error: all goroutines are asleep - deadlock!
//	hang      prints "ready" and blocks forever (for gcore and SIGQUIT)
//	nilmap    assignment to entry in nil map (a runtime.Error)
//	customerr an explicit panic with a custom error type whose message has two lines
//	nested    a panic in a deferred call while panicking
//	repanic   a recovered value panicked again
//	named     a panic with a value of a named integer type
//	unlock    fatal error: sync: unlock of unlocked mutex (runtime.fatal called from package sync)
//	unlockpanic the same fatal error in a deferred call while a panic is running (Go 1.26 and 1.27 print the panic first)
package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

type node struct {
	next *node
	val  int
}

var (
	mu       sync.Mutex
	cond     = sync.NewCond(&sync.Mutex{})
	never    = make(chan int)
	neverOut = make(chan int)
	wg       sync.WaitGroup
	sink     int
)

//go:noinline
func blockRecv() { sink += <-never }

//go:noinline
func blockSend() { neverOut <- 1 }

//go:noinline
func blockSelect() {
	select {
	case v := <-never:
		sink += v
	case neverOut <- 2:
	}
}

//go:noinline
func blockMutex() {
	mu.Lock()
	sink++
	mu.Unlock()
}

//go:noinline
func blockCond() {
	cond.L.Lock()
	cond.Wait()
	cond.L.Unlock()
}

//go:noinline
func blockWaitGroup() { wg.Wait() }

//go:noinline
func deep(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	deep(n-1, f)
	sink++
}

// park starts goroutines that block in known states and none on a timer, so that a deadlock stays one.
func park() {
	mu.Lock() // held by main for ever: blockMutex waits
	wg.Add(1)
	go blockRecv()
	go blockSend()
	go blockSelect()
	go blockMutex()
	go blockCond()
	go blockWaitGroup()
	go deep(5, blockRecv)
	time.Sleep(200 * time.Millisecond) // let every goroutine reach its blocking point
}

//go:noinline
func crashNil(n *node) int { return n.next.val }

//go:noinline
func crashPanic(msg string) { panic(msg) }

//go:noinline
func writeForever(m map[int]int, base int) {
	for i := 0; ; i++ {
		m[base+i%1000] = i
	}
}

//go:noinline
func crashMapWrites() {
	m := make(map[int]int)
	go writeForever(m, 0)
	writeForever(m, 1000)
}

//go:noinline
func crashNilMap(k string) {
	var m map[string]int
	m[k] = 1
}

type configError struct {
	key  string
	line int
}

func (e *configError) Error() string { return fmt.Sprintf("bad key %q\nat line %d", e.key, e.line) }

//go:noinline
func crashCustomError() { panic(&configError{"listen", 7}) }

//go:noinline
func crashNested() {
	defer func() { panic("second, from a deferred call") }()
	panic("first")
}

//go:noinline
func unlockUnlocked() {
	var m sync.Mutex
	m.Unlock()
}

//go:noinline
func crashUnlockInPanic() {
	defer unlockUnlocked()
	panic("before the fatal error")
}

//go:noinline
func crashRepanic() {
	defer func() {
		r := recover()
		panic(r)
	}()
	panic(errors.New("again"))
}

type exitCode int

//go:noinline
func crashNamed() { panic(exitCode(42)) }

//go:noinline
func crashDeadlock() { sink += <-never }

//go:noinline
func sleeper() {
	for {
		time.Sleep(time.Hour)
	}
}

//go:noinline
func hang() {
	go sleeper() // a pending timer: without it the runtime reports a deadlock
	time.Sleep(50 * time.Millisecond)
	fmt.Println("ready")
	os.Stdout.Sync()
	select {}
}

//go:noinline
func run(mode string) {
	switch mode {
	case "nil":
		sink += crashNil(&node{})
	case "panic":
		crashPanic("boom")
	case "mapwrite":
		crashMapWrites()
	case "deadlock":
		crashDeadlock()
	case "nilmap":
		crashNilMap("k")
	case "customerr":
		crashCustomError()
	case "nested":
		crashNested()
	case "repanic":
		crashRepanic()
	case "named":
		crashNamed()
	case "unlock":
		unlockUnlocked()
	case "unlockpanic":
		crashUnlockInPanic()
	case "hang":
		hang()
	default:
		fmt.Fprintln(os.Stderr, "usage: crash nil|panic|mapwrite|deadlock|hang|nilmap|customerr|nested|repanic|named|unlock|unlockpanic")
		os.Exit(2)
	}
}

func main() {
	if len(os.Args) != 2 {
		run("")
	}
	park()
	run(os.Args[1])
}

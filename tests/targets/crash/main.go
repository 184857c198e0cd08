// Command crash dies in a known stack so that its core can be compared with the runtime's own dump
// (run it with GOTRACEBACK=crash). Before dying it parks goroutines in known states. Modes:
//
//	nil       nil pointer dereference (SIGSEGV turned into a panic)
//	panic     an explicit panic
//	mapwrite  fatal error: concurrent map writes
//	deadlock  fatal error: all goroutines are asleep - deadlock!
//	hang      prints "ready" and blocks forever (for gcore and SIGQUIT)
package main

import (
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
	case "hang":
		hang()
	default:
		fmt.Fprintln(os.Stderr, "usage: crash nil|panic|mapwrite|deadlock|hang")
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

// hang: a process whose goroutines are parked in every way a hung service's are (channels, select,
// mutexes, wait groups, sleep, a raw syscall, network I/O on loopback, deep recursion, many idle
// goroutines), plus one spinning and one locked to its OS thread. With cgo, one more is blocked in C.
// Usage: hang [N] (N extra idle goroutines, default 20). Prints "ready" once everything is parked.
package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	never   = make(chan int) // only ever received from
	nobody  = make(chan int) // only ever sent to
	mu      sync.Mutex
	rw      sync.RWMutex
	wg      sync.WaitGroup
	condMu  sync.Mutex
	cond    = sync.NewCond(&condMu)
	started sync.WaitGroup
	sink    int
)

// park is small enough to be inlined into its callers: their frames show it as an inlined frame.
func park(ch chan int) int { return <-ch }

//go:noinline
func chanReceiver() { started.Done(); sink = park(never) }

//go:noinline
func chanSender() { started.Done(); nobody <- 1 }

//go:noinline
func selecter(a, b chan int) {
	started.Done()
	select {
	case v := <-a:
		sink = v
	case v := <-b:
		sink = v
	}
}

//go:noinline
func selectNoCases() { started.Done(); select {} }

//go:noinline
func mutexWaiter() { started.Done(); mu.Lock(); sink++ }

//go:noinline
func rwWaiter() { started.Done(); rw.RLock(); sink++ }

//go:noinline
func wgWaiter() { started.Done(); wg.Wait() }

//go:noinline
func condWaiter() {
	condMu.Lock()
	started.Done()
	cond.Wait()
	condMu.Unlock()
}

//go:noinline
func sleeper() { started.Done(); time.Sleep(time.Hour) }

//go:noinline
func rawSyscallReader(fd int) {
	started.Done()
	var buf [1]byte
	syscall.Read(fd, buf[:]) // a blocking pipe: the goroutine sits in a system call
}

//go:noinline
func acceptor(l net.Listener) {
	started.Done()
	c, err := l.Accept()
	if err == nil {
		c.Close()
	}
}

//go:noinline
func connReader(c net.Conn) {
	started.Done()
	var buf [16]byte
	c.Read(buf[:])
}

//go:noinline
func recurse(n int) int {
	if n == 0 {
		started.Done()
		return park(never)
	}
	return recurse(n-1) + 1
}

//go:noinline
func idle(i int) { started.Done(); sink = park(never) + i }

//go:noinline
func spinner() {
	started.Done()
	x := 0
	for {
		x++
		if x == -1 {
			sink = x
		}
	}
}

//go:noinline
func lockedWaiter() {
	runtime.LockOSThread()
	started.Done()
	sink = park(never)
}

// startCgo is set by cgo.go when the program is built with cgo.
var startCgo func()

func main() {
	extra := 20
	if len(os.Args) > 1 {
		extra, _ = strconv.Atoi(os.Args[1])
	}
	mu.Lock()
	rw.Lock()
	wg.Add(1)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	server, err := l.Accept()
	if err != nil {
		panic(err)
	}
	_ = server
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}

	fns := []func(){
		chanReceiver, chanSender, selectNoCases, mutexWaiter, rwWaiter, wgWaiter, condWaiter, sleeper,
		spinner, lockedWaiter,
		func() { selecter(make(chan int), make(chan int)) },
		func() { rawSyscallReader(p[0]) },
		func() { acceptor(l) },
		func() { connReader(client) },
		func() { sink = recurse(150) },
	}
	if startCgo != nil {
		fns = append(fns, startCgo)
	}
	started.Add(len(fns) + extra)
	if pauseProbeEnabled() {
		started.Add(1)
		startPauseProbe()
	}
	for _, f := range fns {
		go f()
	}
	for i := 0; i < extra; i++ {
		go idle(i)
	}
	started.Wait()
	time.Sleep(200 * time.Millisecond) // let every goroutine reach its parking call
	fmt.Println("ready")
	sink = park(never)
}

// waits: goroutines blocked on known objects, whose addresses the program prints (%p), so that what a
// tool says each goroutine waits on can be checked exactly:
//
//	7 receiving on channel A, 4 in a select on A and B, 5 on mutex M (locked by main), 3 in RLock and 1
//	in Lock of RWMutex R (write-locked by main), 6 in Wait of WaitGroup W, 2 in Wait of Cond C, 9 sleeping,
//	3 each reading its own pipe, 1 reading a TCP connection on the loopback, 1 receiving from the channel of
//	timer T (firing in 100 hours).
//
// It prints one `name kind address` line per object, then "ready" once every goroutine is parked. Each
// line "more" on stdin starts 50 more goroutines blocked forever in leak() and answers "more ready".
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	chanA     = make(chan int)
	chanB     = make(chan int, 3)
	mutexM    sync.Mutex
	rwR       sync.RWMutex
	groupW    sync.WaitGroup
	condMu    sync.Mutex
	condC     = sync.NewCond(&condMu)
	leakCh    = make(chan struct{})
	sink      int
	cgoLinked bool
)

//go:noinline
func chanReceiver() { sink = <-chanA }

//go:noinline
func selecter() {
	select {
	case v := <-chanA:
		sink = v
	case v := <-chanB:
		sink = v
	}
}

//go:noinline
func mutexWaiter() { mutexM.Lock(); sink++ }

//go:noinline
func rwReader() { rwR.RLock(); sink++ }

//go:noinline
func rwWriter() { rwR.Lock(); sink++ }

//go:noinline
func groupWaiter() { groupW.Wait() }

//go:noinline
func condWaiter() {
	condMu.Lock()
	condC.Wait()
	condMu.Unlock()
}

//go:noinline
func sleeper() { time.Sleep(100 * time.Hour) }

//go:noinline
func pipeReader(r *os.File) {
	var buf [8]byte
	r.Read(buf[:])
}

//go:noinline
func netReader(c net.Conn) {
	var buf [8]byte
	c.Read(buf[:])
}

//go:noinline
func timerReceiver(t *time.Timer) { <-t.C }

//go:noinline
func leak() { <-leakCh }

func start(n int, f func()) {
	for i := 0; i < n; i++ {
		go f()
	}
}

// settle returns once no goroutine but the caller is runnable or running: every other one is parked
// where it will stay.
func settle() {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		busy := bytes.Count(buf[:n], []byte(" [runnable")) + bytes.Count(buf[:n], []byte(" [running"))
		if busy <= 1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func main() {
	mutexM.Lock()
	rwR.Lock()
	groupW.Add(1)
	start(7, chanReceiver)
	start(4, selecter)
	start(5, mutexWaiter)
	start(3, rwReader)
	settle() // the readers queue on R before the writer: RLock's semaphore, then Lock's
	start(1, rwWriter)
	start(6, groupWaiter)
	start(2, condWaiter)
	start(9, sleeper)
	var pipes []*os.File
	for i := 0; i < 3; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			panic(err)
		}
		pipes = append(pipes, r, w)
		go pipeReader(r)
		// Not r.Fd(): it would put the pipe in blocking mode, and the reader in a syscall, not in netpoll.
		raw, err := r.SyscallConn()
		if err != nil {
			panic(err)
		}
		raw.Control(func(fd uintptr) { fmt.Printf("pipe%d fd %d\n", i, fd) })
	}
	timerT := time.NewTimer(100 * time.Hour)
	go timerReceiver(timerT)
	conns := netPair()
	go netReader(conns[1])
	fmt.Printf("T chan %p\n", timerT.C)
	fmt.Printf("A chan %p\nB chan %p\nM mutex %p\nR rwmutex %p\nW waitgroup %p\nC cond %p\nCM mutex %p\n",
		chanA, chanB, &mutexM, &rwR, &groupW, condC, &condMu)
	settle()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "more" {
			start(50, leak)
			settle()
			fmt.Println("more ready")
		}
	}
	runtime.KeepAlive(pipes)
	runtime.KeepAlive(conns)
	select {}
}

// netPair connects a client to a listener on the loopback and returns both ends (the server's second), and
// prints the server end's fd.
func netPair() []net.Conn {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	server, err := l.Accept()
	if err != nil {
		panic(err)
	}
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		panic(err)
	}
	raw.Control(func(fd uintptr) { fmt.Printf("tcp fd %d\n", fd) })
	return []net.Conn{client, server}
}

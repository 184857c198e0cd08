// layout_parked: goroutines parked in known states, for the goroutine lister tests. It prints
// "ready" once every goroutine has started, then waits forever (main blocks on a channel).
// Usage: layout_parked [N]  (N goroutines per state; default 25)
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

//go:noinline
func recvForever(c chan int, started *sync.WaitGroup) {
	started.Done()
	<-c
}

//go:noinline
func selectForever(a, b chan int, started *sync.WaitGroup) {
	started.Done()
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func sleepForever(started *sync.WaitGroup) {
	started.Done()
	time.Sleep(time.Hour)
}

//go:noinline
func lockForever(mu *sync.Mutex, started *sync.WaitGroup) {
	started.Done()
	mu.Lock()
}

func main() {
	n := 25
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	never := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	var started sync.WaitGroup
	started.Add(4 * n)
	for i := 0; i < n; i++ {
		go recvForever(never, &started)
		go selectForever(never, never, &started)
		go sleepForever(&started)
		go lockForever(&mu, &started)
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the last ones park
	fmt.Println("ready")
	<-never
}

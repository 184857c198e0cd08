// Command crash_many parks N goroutines (a few frames deep, blocked on channels), holds about M MiB of live
// heap, then panics: with GOTRACEBACK=crash and a core limit it leaves a large core for the core benchmark.
// Usage: crash_many N MIB
package main

import (
	"os"
	"strconv"
	"sync"
	"time"
)

var (
	never = make(chan int)
	heap  [][]byte
	sink  int
)

//go:noinline
func leaf(ready *sync.WaitGroup) {
	ready.Done()
	sink += <-never
}

//go:noinline
func middle(n int, ready *sync.WaitGroup) {
	if n == 0 {
		leaf(ready)
		return
	}
	middle(n-1, ready)
	sink++
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	mib, _ := strconv.Atoi(os.Args[2])
	var ready sync.WaitGroup
	ready.Add(n)
	for i := 0; i < n; i++ {
		go middle(i%4, &ready)
	}
	ready.Wait()
	for i := 0; i < mib; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		heap = append(heap, b)
	}
	time.Sleep(100 * time.Millisecond)
	panic("crash_many: done")
}

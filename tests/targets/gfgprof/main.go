// gfgprof: goroutines in known waits, profiled from inside by fgprof (github.com/felixge/fgprof, 99 Hz)
// for -d, written as pprof to -o: the oracle goperf's goroutine-state profile is compared with.
// 6 goroutines blocked on a channel (main.waitChan), 4 sleeping 2 ms at a time (main.sleepy), 3 taking
// turns on a mutex held 3 ms at a time (main.lockish), 1 mostly busy (main.spin). Prints "ready <pid>",
// waits for a line on stdin, profiles for -d, prints "done".
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/felixge/fgprof"
)

var sink uint64

//go:noinline
func waitChan(ch chan int) { <-ch }

//go:noinline
func sleepy() {
	for {
		time.Sleep(2 * time.Millisecond)
	}
}

//go:noinline
func lockish(mu *sync.Mutex) {
	for {
		mu.Lock()
		time.Sleep(3 * time.Millisecond)
		mu.Unlock()
	}
}

//go:noinline
func spin() {
	for {
		x := uint64(1)
		for i := 0; i < 1000000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink += x
		time.Sleep(time.Millisecond)
	}
}

func main() {
	out := flag.String("o", "fgprof.pb.gz", "where fgprof's profile goes")
	d := flag.Duration("d", 4*time.Second, "how long fgprof profiles")
	flag.Parse()
	ch := make(chan int)
	var mu sync.Mutex
	for i := 0; i < 6; i++ {
		go waitChan(ch)
	}
	for i := 0; i < 4; i++ {
		go sleepy()
	}
	for i := 0; i < 3; i++ {
		go lockish(&mu)
	}
	go spin()
	time.Sleep(200 * time.Millisecond)
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	stop := fgprof.Start(f, fgprof.FormatPprof)
	time.Sleep(*d)
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Close()
	fmt.Println("done")
}

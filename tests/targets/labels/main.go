// labels: three workers under pprof.Do, each with its own "worker" label, doing 1x, 2x and 3x the same
// work per round, so that a CPU profile's label shares must be 1/6, 2/6 and 3/6. A round is paced so
// the three workers never compete for a CPU: the shares stay exact on a busy machine.
// Prints "ready <pid> a=<goid> b=<goid> c=<goid>" once the workers run, each worker's goroutine id as
// the runtime's own traceback header prints it (runtime.Stack: "goroutine N [running]:"); exits after -d seconds or -rounds rounds (default: runs
// until killed); with -rounds it prints "elapsed <ns>" of the rounds (a fixed workload for benchmarks).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

var sink uint64

//go:noinline
func spin(units int) uint64 {
	x := uint64(1)
	for i := 0; i < units*200000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// goid is this goroutine's id as the runtime prints it in the header of its own traceback.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

func worker(name string, factor int, start <-chan struct{}, done chan<- struct{}, ids chan<- string) {
	ids <- name + "=" + goid()
	pprof.Do(context.Background(), pprof.Labels("worker", name), func(context.Context) {
		for range start {
			sink += spin(factor)
			done <- struct{}{}
		}
	})
}

func main() {
	dur := flag.Duration("d", 0, "run time (0: until killed)")
	rounds := flag.Int("rounds", 0, "stop after this many rounds and print the time they took (benchmarks)")
	wait := flag.Bool("wait", false, "after ready, wait for a line on stdin before working (benchmarks)")
	flag.Parse()
	names := []string{"a", "b", "c"}
	starts := make([]chan struct{}, len(names))
	done := make(chan struct{}, len(names))
	ids := make(chan string, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		starts[i] = make(chan struct{})
		wg.Add(1)
		go func(i int, n string) { defer wg.Done(); worker(n, i+1, starts[i], done, ids) }(i, n)
	}
	goids := make([]string, len(names))
	for i := range names {
		goids[i] = <-ids
	}
	fmt.Printf("ready %d %s\n", os.Getpid(), strings.Join(goids, " "))
	if *wait {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	start := time.Now()
	deadline := start.Add(*dur)
	// Workers run one after another: each round is a, b, c in sequence, on one CPU at a time.
	for r := 0; (*dur == 0 || time.Now().Before(deadline)) && (*rounds == 0 || r < *rounds); r++ {
		for i := range names {
			starts[i] <- struct{}{}
			<-done
		}
	}
	if *rounds > 0 {
		fmt.Printf("elapsed %d\n", time.Since(start).Nanoseconds())
	}
	for _, c := range starts {
		close(c)
	}
	wg.Wait()
}

package main

// The pause probe (HANG_PAUSE_PROBE=1): a goroutine that reads the monotonic clock in a loop and keeps
// the longest gap between two reads, so a test can compare what the process itself saw of a snapshot's
// stop with what goperf reports. Each line "gap" on stdin prints "gap <ns>", the longest gap since the
// previous query, and starts a new interval. Off by default: it costs a CPU.

import (
	"bufio"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

var longestGap atomic.Int64

//go:noinline
func pauseProbe() {
	started.Done()
	last := time.Now()
	for {
		now := time.Now()
		if gap := int64(now.Sub(last)); gap > longestGap.Load() {
			longestGap.Store(gap)
		}
		last = now
	}
}

func answerGapQueries() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "gap" {
			fmt.Printf("gap %d\n", longestGap.Swap(0))
		}
	}
}

func pauseProbeEnabled() bool { return os.Getenv("HANG_PAUSE_PROBE") != "" }

func startPauseProbe() {
	go pauseProbe()
	go answerGapQueries()
}

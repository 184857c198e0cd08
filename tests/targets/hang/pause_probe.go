package main

// The pause probe (HANG_PAUSE_PROBE=1): a goroutine that reads the monotonic clock in a loop and keeps
// the longest gap between two reads, so a test can compare what the process itself saw of a snapshot's
// stop with what goperf reports. Each line "gap" on stdin prints "gap <ns>", the longest gap since the
// previous query, and starts a new interval. Off by default: it costs a CPU.
//
// The gap the probe is in when a query comes counts too: after a stop, the thread that answers can run
// before the probe's thread is scheduled again, and the probe only records a gap once it reads the clock
// after it; without this, such a query would miss the whole stop.

import (
	"bufio"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

var (
	probeEpoch = time.Now()
	longestGap atomic.Int64
	lastRead   atomic.Int64 // the probe's latest clock read, in ns since probeEpoch (monotonic)
)

func sinceEpoch() int64 { return int64(time.Since(probeEpoch)) }

// recordGap keeps gap if it is the longest of the interval.
func recordGap(gap int64) {
	for {
		longest := longestGap.Load()
		if gap <= longest || longestGap.CompareAndSwap(longest, gap) {
			return
		}
	}
}

//go:noinline
func pauseProbe() {
	lastRead.Store(sinceEpoch())
	started.Done()
	for {
		now := sinceEpoch()
		recordGap(now - lastRead.Swap(now))
	}
}

func answerGapQueries() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "gap" {
			// The gap in progress ends here for this interval; the probe's next gap starts from now.
			now := sinceEpoch()
			recordGap(now - lastRead.Swap(now))
			fmt.Printf("gap %d\n", longestGap.Swap(0))
		}
	}
}

func pauseProbeEnabled() bool { return os.Getenv("HANG_PAUSE_PROBE") != "" }

func startPauseProbe() {
	go pauseProbe()
	go answerGapQueries()
}

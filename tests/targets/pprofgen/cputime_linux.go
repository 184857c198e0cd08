package main

import (
	"syscall"
	"time"
)

// cpuTime is this process's user+system CPU time (getrusage), so the work done is the same however busy
// the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

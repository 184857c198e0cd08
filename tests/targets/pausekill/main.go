// pausekill: not a target of goperf but a helper run beside one. It SIGKILLs `goperf snapshot` while goperf
// has the target stopped, and reports whether the kill left any of the target's threads stopped. Used in the
// emulated arm64 machine (tests/integration/test_arm64.py), where the pause lasts tens of milliseconds and a
// shell needs ~15 ms per read of /proc, too slow to see it.
//
// Usage: pausekill -goperf PATH -pid PID [-rounds N] [-seed S]
//
// First a calibration run: a whole goperf snapshot, whose reported pause P bounds the delays. Then each round
// starts goperf snapshot again, looks at /proc/PID/task/*/stat every millisecond until a thread of the
// target is in a ptrace stop ('t'), naps a random delay below P/2 (so that kills land at different points
// of the pause, the earliest included: while some threads have not stopped yet; the pause of a watched
// round is 0.6-1 P under TCG, so P/2 keeps nearly every kill inside it), looks once more and SIGKILLs goperf. The kernel then detaches goperf's tracees
// (exit_ptrace); the defect looked for is a thread left stopped or a target that no longer runs (a stop
// goperf queued and never undid). The watcher runs SCHED_FIFO so that it wakes on time under emulation.
// One line per round:
//
//	round R in-pause yes|no seen yes|no delay Dms waited Wms at-kill STATES killed yes|no after STATES progress TICKS
//
// in-pause: a thread was in a ptrace stop at the look just before the kill and goperf died of the kill;
// at-kill, after: one state letter per thread at that look and 100 ms after the kill; TICKS: the
// target's utime+stime over those 100 ms (clock ticks, /proc/PID/stat fields 14 and 15), which grows
// while the target runs (the hang target has a spinning goroutine).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// threads holds the target's /proc/PID/task/TID/stat files open: one pread of each per look, the cheapest
// way to see a state change (proc(5)).
type threads struct {
	pid   int
	files []*os.File
	buf   []byte
}

func openThreads(pid int) *threads {
	t := &threads{pid: pid, buf: make([]byte, 1024)}
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	for _, task := range tasks {
		if f, err := os.Open(dir + "/" + task.Name() + "/stat"); err == nil {
			t.files = append(t.files, f)
		}
	}
	return t
}

func (t *threads) close() {
	for _, f := range t.files {
		f.Close()
	}
}

// states returns one state letter per thread: the field after the command's closing parenthesis.
func (t *threads) states() string {
	var b strings.Builder
	for _, f := range t.files {
		n, _ := f.ReadAt(t.buf, 0)
		if i := bytes.LastIndexByte(t.buf[:n], ')'); i >= 0 && i+2 < n {
			b.WriteByte(t.buf[i+2])
		}
	}
	return b.String()
}

// threadStates is states of the threads there are now.
func threadStates(pid int) string {
	t := openThreads(pid)
	defer t.close()
	return t.states()
}

// cpuTicks returns the process's utime+stime in clock ticks (/proc/PID/stat fields 14 and 15).
func cpuTicks(pid int) int64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(stat, ')')
	if err != nil || i < 0 {
		return -1
	}
	fields := strings.Fields(string(stat[i+1:])) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return -1
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ptraceStopped(states string) bool { return strings.IndexByte(states, 't') >= 0 }

// snapshot starts goperf snapshot of pid, its stdout discarded and its stderr kept in errs; done is
// closed when goperf has exited.
func snapshot(goperf string, pid int, errs *bytes.Buffer) (cmd *exec.Cmd, done chan struct{}, err error) {
	cmd = exec.Command(goperf, "snapshot", "-p", strconv.Itoa(pid))
	cmd.Stderr = errs
	if err = cmd.Start(); err != nil {
		return nil, nil, err
	}
	done = make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	return cmd, done, nil
}

func exited(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// calibrate runs one whole snapshot, unwatched, and returns the pause goperf reports ("paused for X ms").
func calibrate(goperf string, pid int) (time.Duration, error) {
	out, err := exec.Command(goperf, "snapshot", "-p", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("goperf snapshot: %v: %s", err, out)
	}
	var ms float64
	if i := bytes.Index(out, []byte("paused for ")); i >= 0 {
		fmt.Sscanf(string(out[i:]), "paused for %f ms", &ms)
	}
	if ms <= 0 {
		return 0, fmt.Errorf("goperf snapshot reported no pause: %q", out)
	}
	return time.Duration(ms * 1e6), nil
}

// realtime makes the calling thread SCHED_FIFO: woken from each nap at once, ahead of goperf and the target
// (under emulation a normal thread is woken tens of milliseconds late, longer than the pause), while
// napping between looks leaves them the CPU.
func realtime() error {
	runtime.LockOSThread()
	param := struct{ priority int32 }{10}
	// SCHED_RESET_ON_FORK: goperf and the runtime's new threads, cloned from this one, run as normal threads.
	const schedFIFO, schedResetOnFork = 1, 0x40000000
	policy := uintptr(schedFIFO | schedResetOnFork)
	if _, _, e := syscall.Syscall(syscall.SYS_SCHED_SETSCHEDULER, 0, policy, uintptr(unsafe.Pointer(&param))); e != 0 {
		return fmt.Errorf("sched_setscheduler SCHED_FIFO: %v", e)
	}
	return nil
}

// nap sleeps in the calling thread itself (nanosleep), not through Go's timers, which another thread wakes.
func nap(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// round starts a snapshot, looks every millisecond until a thread of the target is in a ptrace stop, naps
// a random delay below half the calibrated pause, looks once more, SIGKILLs goperf and reports.
func round(r int, goperf string, pid int, pause time.Duration, rng *rand.Rand) error {
	delay := time.Duration(rng.Int63n(int64(pause)/2 + 1))
	watch := openThreads(pid)
	defer watch.close()
	var errs bytes.Buffer
	cmd, done, err := snapshot(goperf, pid, &errs)
	if err != nil {
		return err
	}
	seen := false
	for !seen && !exited(done) {
		if seen = ptraceStopped(watch.states()); !seen {
			nap(time.Millisecond)
		}
	}
	seenAt := time.Now()
	if seen {
		nap(delay)
	}
	atKill := watch.states()
	waited := time.Since(seenAt)
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
	before := cpuTicks(pid)
	time.Sleep(100 * time.Millisecond)
	after, ticks := threadStates(pid), cpuTicks(pid)
	inPause := "no"
	if seen && ptraceStopped(atKill) && killed {
		inPause = "yes"
	}
	fmt.Printf("round %d in-pause %s seen %s delay %.1fms waited %.1fms at-kill %s killed %s after %s progress %d\n",
		r, inPause, yes(seen), float64(delay)/1e6, float64(waited)/1e6, atKill, yes(killed), after, ticks-before)
	if !killed {
		fmt.Printf("round %d goperf ended first: %s: %s", r, cmd.ProcessState, errs.String())
	}
	return nil
}

func main() {
	goperf := flag.String("goperf", "goperf", "the goperf to run")
	pid := flag.Int("pid", 0, "the target's process id")
	rounds := flag.Int("rounds", 10, "how many snapshots to kill")
	seed := flag.Int64("seed", time.Now().UnixNano(), "seed of the random delays")
	flag.Parse()
	if *pid <= 0 {
		fmt.Fprintln(os.Stderr, "pausekill: -pid is required")
		os.Exit(1)
	}
	if err := realtime(); err != nil {
		fmt.Fprintln(os.Stderr, "pausekill:", err)
		os.Exit(1)
	}
	pause, err := calibrate(*goperf, *pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pausekill:", err)
		os.Exit(1)
	}
	fmt.Printf("calibration pause %.1fms seed %d\n", float64(pause)/1e6, *seed)
	rng := rand.New(rand.NewSource(*seed))
	for r := 1; r <= *rounds; r++ {
		if err := round(r, *goperf, *pid, pause, rng); err != nil {
			fmt.Fprintln(os.Stderr, "pausekill:", err)
			os.Exit(1)
		}
	}
}

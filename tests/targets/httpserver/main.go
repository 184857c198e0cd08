// httpserver: a net/http server whose handlers make the stacks real servers have (deep handler call
// chains, allocation that keeps the GC busy, timers, system calls), and the loopback client that loads it.
//
//	httpserver -serve [-seconds S]                     prints "listening 127.0.0.1:PORT", serves for S seconds
//	httpserver -load 127.0.0.1:PORT -requests N -seconds S [-conns C]
//	                                                   GETs the handlers in turn until N requests or S seconds
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type record struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  map[string]string `json:"tags"`
	Score []float64         `json:"score"`
}

var sink atomic.Value // always a []record

// descend makes a handler stack `depth` frames deeper before it works, as routers, middleware and
// service layers do.
//
//go:noinline
func descend(depth int, work func() []byte) []byte {
	if depth == 0 {
		return work()
	}
	b := descend(depth-1, work)
	return b[:len(b):len(b)]
}

// encode allocates: records, maps and JSON, so that the GC runs often (mark assists on the handlers'
// goroutines, background mark workers, sweeping).
//
//go:noinline
func encode(n int) []byte {
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{ID: i, Name: "item-" + strconv.Itoa(i), Tags: map[string]string{"k": strconv.Itoa(i * 7)},
			Score: make([]float64, 16)}
	}
	b, _ := json.Marshal(recs)
	sink.Store(recs)
	return b
}

//go:noinline
func digest(b []byte) []byte {
	sum := sha256.Sum256(b)
	for i := 0; i < 200; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return sum[:]
}

// syscalls: file reads and writes, each a system call of its own.
//
//go:noinline
func syscalls() []byte {
	b, _ := os.ReadFile("/proc/self/stat")
	if f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		for i := 0; i < 20; i++ {
			f.Write(b)
		}
		f.Close()
	}
	return b
}

// timers: short sleeps and timer channels (the runtime's timer heap, netpoll wakeups), clock reads.
//
//go:noinline
func timers() []byte {
	t := time.NewTimer(200 * time.Microsecond)
	<-t.C
	start := time.Now()
	var n int64
	for time.Since(start) < 100*time.Microsecond {
		n++
	}
	return []byte(strconv.FormatInt(n, 10))
}

func handler(depth int, work func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := descend(depth, work)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	}
}

func serve(seconds float64) {
	debug.SetGCPercent(25)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/json", handler(40, func() []byte { return encode(200) }))
	mux.HandleFunc("/hash", handler(25, func() []byte { return digest(encode(20)) }))
	mux.HandleFunc("/sys", handler(30, syscalls))
	mux.HandleFunc("/timer", handler(20, timers))
	// A background ticker: timer-driven work beside the requests.
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		for range tick.C {
			encode(10)
		}
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	os.Stdout.Sync()
	go func() {
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		os.Exit(0)
	}()
	http.Serve(ln, mux)
}

func load(addr string, requests int64, seconds float64, conns int) {
	paths := []string{"/json", "/hash", "/sys", "/timer"}
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var done, failed int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i++ {
				if atomic.AddInt64(&done, 1) > requests {
					return
				}
				resp, err := client.Get("http://" + addr + paths[i%len(paths)])
				if err != nil {
					atomic.AddInt64(&failed, 1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(c)
	}
	wg.Wait()
	fmt.Printf("requests %d failed %d\n", min64(done, requests), failed)
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func main() {
	serveFlag := flag.Bool("serve", false, "serve on 127.0.0.1")
	loadAddr := flag.String("load", "", "load the server at this 127.0.0.1 address")
	requests := flag.Int64("requests", 100000, "at most this many requests (-load)")
	seconds := flag.Float64("seconds", 30, "serve or load at most this long")
	conns := flag.Int("conns", 4, "concurrent connections (-load)")
	flag.Parse()
	switch {
	case *serveFlag:
		serve(*seconds)
	case *loadAddr != "":
		host, _, err := net.SplitHostPort(*loadAddr)
		if err != nil || host != "127.0.0.1" {
			fmt.Fprintln(os.Stderr, "-load takes 127.0.0.1:PORT")
			os.Exit(2)
		}
		load(*loadAddr, *requests, *seconds, *conns)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

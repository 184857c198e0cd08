// symbols: functions of every shape goperf must name in a stripped binary (inlining several levels
// deep, closures, methods on value and pointer receivers, generics, assembly), and a mode that prints
// the program's own PCs with the frames runtime.CallersFrames gives for each, the oracle for inline chains.
//
//	symbols          run every shape once and print a checksum (deterministic)
//	symbols frames   also print "exe <start of the executable's first mapping>" then each captured stack:
//	                 "stack", then per PC of runtime.Callers "pc 0x<pc> <go|inl>\t<function>\t<file>\t<line>"
//	                 (the frame runtime.CallersFrames gives for that PC; go = a physical frame, inl = inlined)
//	symbols wait     print "ready" and wait until stdin closes (a live process for goperf info -p)
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"example.com/symlib"
)

var printFrames bool

// stacks keeps each captured stack once, in the order first captured.
var seen = map[string]bool{}
var stacks [][]uintptr

// capture records the PCs of its callers (not itself), up to runtime.main.
//
//go:noinline
func capture() {
	var pcs [64]uintptr
	n := runtime.Callers(2, pcs[:])
	key := fmt.Sprint(pcs[:n])
	if !seen[key] {
		seen[key] = true
		stacks = append(stacks, append([]uintptr(nil), pcs[:n]...))
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	printFrames = len(os.Args) > 1 && os.Args[1] == "frames"
	sum := 0
	sum += inlineChain(3)
	sum += panicChain(4)
	sum += closures()
	sum += methods()
	sum += generics()
	sum += int(asmAdd(40, 2))
	sum += int(asmCall(7))
	sum = symlib.Mix(sum, 1)
	fmt.Println("checksum", sum)
	if printFrames {
		dumpFrames()
	}
}

func dumpFrames() {
	fmt.Println("exe", exeStart())
	for _, stack := range stacks {
		fmt.Println("stack")
		for _, pc := range stack {
			// One PC at a time: runtime.Callers already gives one PC per inlined call, and this
			// ties each frame to its PC.
			frames := runtime.CallersFrames([]uintptr{pc})
			for {
				f, more := frames.Next()
				kind := "inl"
				if f.Func != nil {
					kind = "go"
				}
				fmt.Printf("pc %#x %s\t%s\t%s\t%d\n", pc, kind, f.Function, f.File, f.Line)
				if !more {
					break
				}
			}
		}
	}
}

// exeStart is the start address of the executable's first mapping (file offset 0), from which the
// tests compute the load bias of a PIE build.
func exeStart() string {
	exe, err := os.Executable()
	if err != nil {
		return "?"
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 6 && fields[2] == "00000000" && fields[5] == exe {
			return "0x" + strings.SplitN(fields[0], "-", 2)[0]
		}
	}
	return "?"
}

// symbols_cgo: a cgo program (C and C++ code linked in, a call from C back into Go) whose stripped and
// PIE builds goperf must name: Go functions from the pclntab, C and C++ functions from ELF symbols.
//
//	symbols_cgo          call the C and C++ code once and print a checksum (deterministic)
//	symbols_cgo frames   also print the Go stacks captured inside the C->Go callback, in the format of
//	                     tests/targets/symbols ("exe", "stack", "pc 0x<pc> <go|inl>\t<func>\t<file>\t<line>")
package main

// #include "native.h"
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

var stacks [][]uintptr

//go:noinline
func capture() {
	var pcs [64]uintptr
	n := runtime.Callers(2, pcs[:])
	stacks = append(stacks, append([]uintptr(nil), pcs[:n]...))
}

func square(x int) int {
	capture()
	return x * x
}

//export goCallback
func goCallback(n C.int) C.int { return C.int(square(int(n))) }

//go:noinline
func callC(n int) int { return int(C.c_work(C.int(n))) }

//go:noinline
func callCxx(n int) int { return int(C.cxx_work(C.int(n))) }

func main() {
	sum := callC(3) + callCxx(4)
	fmt.Println("checksum", sum)
	if len(os.Args) > 1 && os.Args[1] == "frames" {
		fmt.Println("exe", exeStart())
		for _, stack := range stacks {
			fmt.Println("stack")
			for _, pc := range stack {
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
}

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

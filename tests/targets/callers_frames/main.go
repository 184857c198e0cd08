// callers_frames prints stacks taken with runtime.Callers and the frames runtime.CallersFrames makes of
// them (inlined calls several levels deep, methods, closures, generics): the oracle for goperf's
// inline expansion. Output: "entry main.main 0x..", then per stack "stack <pc>..." and "frame" lines.
package main

import (
	"fmt"
	"reflect"
	"runtime"
)

//go:noinline
func record() []uintptr {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(1, pcs)
	return pcs[:n]
}

func leaf(x int) []uintptr {
	if x > 0 {
		return record()
	}
	return nil
}

func mid(x int) []uintptr { return leaf(x + 1) }

func top(x int) []uintptr { return mid(x * 2) }

type T struct{ n int }

func (t *T) method() []uintptr { return top(t.n) }

type Stacker interface{ stack() []uintptr }

func (t T) stack() []uintptr { return mid(t.n) }

func generic[V any](v V, f func(V) []uintptr) []uintptr { return f(v) }

//go:noinline
func viaInterface(s Stacker) []uintptr { return s.stack() }

//go:noinline
func outer() [][]uintptr {
	var stacks [][]uintptr
	stacks = append(stacks, top(1))
	t := &T{n: 3}
	stacks = append(stacks, t.method())
	stacks = append(stacks, func() []uintptr { return mid(5) }())
	stacks = append(stacks, generic(1, func(int) []uintptr { return top(2) }))
	stacks = append(stacks, generic("s", func(string) []uintptr { return record() }))
	stacks = append(stacks, viaInterface(T{n: 4}))
	return stacks
}

func main() {
	fmt.Printf("entry main.main %#x\n", reflect.ValueOf(main).Pointer())
	for _, st := range outer() {
		fmt.Print("stack")
		for _, pc := range st {
			fmt.Printf(" %#x", pc)
		}
		fmt.Println()
		frames := runtime.CallersFrames(st)
		for {
			f, more := frames.Next()
			fmt.Printf("frame %s\t%s\t%d\n", f.Function, f.File, f.Line)
			if !more {
				break
			}
		}
	}
}

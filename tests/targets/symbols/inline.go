package main

import "errors"

// Small functions the compiler inlines into one another: level3 -> level2 -> level1 -> capture.
func level1(x int) int {
	capture()
	return x + 1
}

func level2(x int) int { return level1(x) * 2 }

func level3(x int) int { return level2(x) + 3 }

//go:noinline
func inlineChain(x int) int { return level3(x) }

var errDeep = errors.New("deep")

// panic costs the inliner almost nothing, so this chain inlines six levels deep into panicChain;
// the deferred recover captures the PC of the panicking call.
func deep1(x int) int { return deep2(x+1) + 1 }
func deep2(x int) int { return deep3(x+1) + 2 }
func deep3(x int) int { return deep4(x+1) + 3 }
func deep4(x int) int { return deep5(x+1) + 4 }
func deep5(x int) int { return deep6(x+1) + 5 }
func deep6(x int) int {
	if x > 0 {
		panic(errDeep)
	}
	return x
}

//go:noinline
func panicChain(x int) (r int) {
	defer func() {
		if recover() != nil {
			capture()
			r = 100
		}
	}()
	return deep1(x)
}

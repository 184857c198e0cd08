// Package symlib is a dependency replaced by a local directory, so that the build info of the symbols
// target has a "dep" line followed by a "=>" line (what `go version -m` prints for a replaced module).
package symlib

// Mix is not inlined, so that a function of a dependency module appears in the binary.
//
//go:noinline
func Mix(a, b int) int { return a*31 + b }

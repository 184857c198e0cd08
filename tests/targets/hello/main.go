// hello: the smallest target, used to check that every toolchain and variant builds.
package main

import "fmt"

func main() { fmt.Println("hello from", "goperf's smallest target") }

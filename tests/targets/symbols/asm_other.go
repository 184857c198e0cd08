//go:build !amd64

package main

func asmAdd(a, b int64) int64 { return a + b }
func asmCall(n int64) int64   { return goAsmCallback(n) }

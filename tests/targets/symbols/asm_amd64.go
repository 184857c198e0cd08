package main

// Implemented in asm_amd64.s.
func asmAdd(a, b int64) int64
func asmCall(n int64) int64

#include "textflag.h"

// func asmAdd(a, b int64) int64
TEXT ·asmAdd(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), BX
	ADDQ BX, AX
	MOVQ AX, ret+16(FP)
	RET

// func asmCall(n int64) int64: returns goAsmCallback(n), called from assembly.
TEXT ·asmCall(SB), 0, $16-16
	MOVQ n+0(FP), AX
	MOVQ AX, 0(SP)
	CALL ·goAsmCallback(SB)
	MOVQ 8(SP), AX
	MOVQ AX, ret+8(FP)
	RET

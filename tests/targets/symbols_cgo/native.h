// C and C++ functions the Go side calls through cgo; c_work calls back into Go (goCallback).
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
int c_work(int n);
int cxx_work(int n);
#ifdef __cplusplus
}
#endif

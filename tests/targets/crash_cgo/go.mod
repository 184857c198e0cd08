module example.com/crash_cgo

go 1.19

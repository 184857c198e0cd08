module example.com/prof_cgo

go 1.19

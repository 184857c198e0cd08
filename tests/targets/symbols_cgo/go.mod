module example.com/symbols_cgo

go 1.19

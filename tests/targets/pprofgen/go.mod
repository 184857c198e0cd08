module example.com/pprofgen

go 1.19

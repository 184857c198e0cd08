module example.com/symlib

go 1.19

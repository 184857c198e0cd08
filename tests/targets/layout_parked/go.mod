module example.com/layout_parked

go 1.19

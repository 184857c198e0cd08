module example.com/crash_many

go 1.19

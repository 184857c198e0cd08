module example.com/callers_frames

go 1.19

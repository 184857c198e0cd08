module example.com/symbols

go 1.19

require example.com/symlib v0.0.0

replace example.com/symlib => ./symlib

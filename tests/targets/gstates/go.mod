module goperf.test/gstates

go 1.19

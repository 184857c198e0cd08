module goperf.test/labels

go 1.19

module goperf/scripts/measure_layouts

go 1.19

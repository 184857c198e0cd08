module example.com/pausekill

go 1.19

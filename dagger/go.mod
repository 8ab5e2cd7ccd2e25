module dagger/paved

go 1.25.0

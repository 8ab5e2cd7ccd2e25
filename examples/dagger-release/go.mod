module dagger/release

go 1.25.0

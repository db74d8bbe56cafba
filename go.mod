module github.com/syscope/syscope

go 1.26.8

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/sys v0.43.0 // indirect
)

package probe

// The eBPF object and its Go bindings are generated and committed, so that
// building syscope needs no clang. `make generate` rebuilds them; it needs clang,
// llvm, libbpf-dev and bpftool (for bpf/vmlinux.h, which is made from this
// machine's BTF and not committed).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target amd64 -type rec_hdr -type sockinfo -type fileinfo -type taskinfo -type vminfo -type sysconf probe bpf/probe.bpf.c -- -I./bpf -O2 -g -Wall -mcpu=v3 -D__TARGET_ARCH_x86

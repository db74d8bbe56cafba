// Command loop times a tight system-call loop, for bench/live.sh: N getppid
// calls and N one-byte writes to /dev/null, printing nanoseconds per call.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 2000000, "calls per loop")
	flag.Parse()
	start := time.Now()
	for range *n {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	getppid := time.Since(start)
	f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fd := f.Fd()
	b := []byte("x")
	start = time.Now()
	for range *n {
		syscall.Syscall(syscall.SYS_WRITE, fd, uintptr(unsafePointer(b)), 1)
	}
	write := time.Since(start)
	fmt.Printf("getppid %.1f ns/call\nwrite %.1f ns/call\n",
		float64(getppid.Nanoseconds())/float64(*n), float64(write.Nanoseconds())/float64(*n))
}

// Command loop times a tight system-call loop, for bench/live.sh: N getppid
// calls and N one-byte writes to /dev/null, printing nanoseconds per call.
// With -rate R it makes N getppid calls paced at R calls a second instead
// (in bursts of 1000), and prints the rate it kept.
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
	rate := flag.Int("rate", 0, "getppid calls per second (0: as fast as possible, then the write loop)")
	flag.Parse()
	if *rate > 0 {
		paced(*n, *rate)
		return
	}
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

// paced makes n getppid calls at rate calls a second, in bursts of 1000.
func paced(n, rate int) {
	const burst = 1000
	start := time.Now()
	for done := 0; done < n; {
		for i := 0; i < burst && done < n; i++ {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
			done++
		}
		due := start.Add(time.Duration(float64(done) / float64(rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
	}
	el := time.Since(start)
	fmt.Printf("paced %d calls in %.2f s: %.0f calls/s\n", n, el.Seconds(), float64(n)/el.Seconds())
}

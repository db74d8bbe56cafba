// Package livetest holds what the live-capture tests (test/live, test/lab) share:
// building the binaries, running syscope as a capture around a workload, and
// comparing its output with the real sysdig's.
package livetest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/probe"
)

// NeedLive skips t where live capture cannot run (not root, no BTF).
func NeedLive(t *testing.T) {
	t.Helper()
	if err := probe.Check(); err != nil {
		t.Skipf("live capture cannot run here: %v", err)
	}
}

// Build builds package pkg into dir/name and returns the binary's path.
func Build(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Run runs bin with args in UTC and returns its standard output; it fails t on error.
func Run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Capture runs workload while `syscope -w file extra...` captures, stops the capture
// with SIGINT, and checks that the file exists with mode 0600.
func Capture(t *testing.T, syscope, file string, extra []string, workload func()) {
	t.Helper()
	cmd := exec.Command(syscope, append([]string{"-w", file}, extra...)...)
	var stderr bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(&stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// syscope says on stderr when the probe is attached and the state is read.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() { // keep draining, so syscope never blocks on stderr
			if !sent && strings.Contains(sc.Text(), "capturing to") {
				ready <- true
				sent = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("syscope did not start capturing within 30s: %s", stderr.String())
	}
	workload()
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		pw.Close()
		if err != nil {
			t.Fatalf("syscope -w: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("syscope did not stop within 30s of SIGINT: %s", stderr.String())
	}
	// Dropped events explain missing ones: say so in the test's log.
	if strings.Contains(stderr.String(), "dropped") {
		t.Logf("syscope -w reported drops:\n%s", stderr.String())
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("capture file mode %v, want 0600", fi.Mode().Perm())
	}
}

// FirstDiffs describes up to n lines where a (syscope) and b (sysdig) differ.
func FirstDiffs(a, b string, n int) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n  syscope: %s\n  sysdig:  %s", i+1, x, y))
			if len(out) == n {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// fdName matches a UDP socket fd's name in a line: (<4u>sip:sport->dip:dport).
var fdName = regexp.MustCompile(`\(<4u>([0-9.]+):(\d+)->([0-9.]+):(\d+)\)`)

// ServerSocketQuirk reports whether two lines differ only where libsinsp 0.29.3
// reads a bound UDP socket's server address (ip, port, protocol) as a tuple, so
// that an address prints as the port's two bytes, 3 (UDP), and a leftover byte:
// 10.77.0.2:42540->53.0.3.0:53 for a DNS server on port 53. syscope prints the
// real addresses (test/compat's knownDivergences describes the same quirk).
func ServerSocketQuirk(ours, theirs string) bool {
	m := fdName.FindStringSubmatch(theirs)
	if m == nil {
		return false
	}
	garbage := false
	for _, port := range []string{m[2], m[4]} {
		p, _ := strconv.Atoi(port)
		prefix := fmt.Sprintf("%d.%d.3.", p&0xff, p>>8)
		if strings.HasPrefix(m[1], prefix) || strings.HasPrefix(m[3], prefix) {
			garbage = true
		}
	}
	return garbage && fdName.ReplaceAllString(ours, m[0]) == theirs
}

// Package live tests live capture end to end: the real eBPF probe captures a
// scripted workload with `syscope -w`, then the file is checked event by event,
// and read by the real sysdig 0.29.3, which must print what syscope prints.
//
// The tests need root and a kernel with BTF; they skip with the reason otherwise.
// All traffic stays on the loopback interface.
package live

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/test/livetest"
)

// The workload runs as a copy of this test binary named workloadName, so that
// its events are easy to select (proc.name) among the whole machine's.
const workloadName = "scope-wl"

func TestMain(m *testing.M) {
	switch os.Getenv("SYSCOPE_WORKLOAD") {
	case "client":
		os.Exit(client())
	case "server":
		os.Exit(server())
	}
	os.Exit(m.Run())
}

// server accepts one TCP connection on the port given in SYSCOPE_TCP, reads a
// request and answers, then reads one UDP datagram on SYSCOPE_UDP.
func server() int {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("SYSCOPE_TCP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	uc, err := net.ListenPacket("udp", "127.0.0.1:"+os.Getenv("SYSCOPE_UDP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 512)
	n, _ := c.Read(buf)
	if !bytes.HasPrefix(buf[:n], []byte("GET /syscope")) {
		fmt.Fprintf(os.Stderr, "unexpected request %q\n", buf[:n])
		return 1
	}
	c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	c.Close()
	uc.SetDeadline(time.Now().Add(20 * time.Second))
	n, _, err = uc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "udp-ping-from-syscope" {
		fmt.Fprintf(os.Stderr, "udp: %q %v\n", buf[:n], err)
		return 1
	}
	return 0
}

// client reads /etc/resolv.conf, fails to open a missing file, makes the TCP
// request and sends the UDP datagram, then runs /bin/true (fork and execve).
func client() int {
	if b, err := os.ReadFile("/etc/resolv.conf"); err != nil || len(b) == 0 {
		fmt.Fprintln(os.Stderr, "resolv.conf:", err)
	}
	if _, err := os.Open("/nonexistent-syscope-live"); err == nil {
		return 1
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+os.Getenv("SYSCOPE_TCP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.Write([]byte("GET /syscope HTTP/1.0\r\n\r\n"))
	resp, _ := io.ReadAll(c)
	c.Close()
	if !bytes.HasSuffix(resp, []byte("hello")) {
		fmt.Fprintf(os.Stderr, "response %q\n", resp)
		return 1
	}
	u, err := net.Dial("udp", "127.0.0.1:"+os.Getenv("SYSCOPE_UDP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	u.Write([]byte("udp-ping-from-syscope"))
	u.Close()
	if err := exec.Command("/bin/true", "syscope-arg").Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runWorkload starts the server, runs the client and waits for both.
func runWorkload(t *testing.T, wl string, tcp, udp int) {
	t.Helper()
	env := append(os.Environ(), "SYSCOPE_TCP="+strconv.Itoa(tcp), "SYSCOPE_UDP="+strconv.Itoa(udp))
	srv := exec.Command(wl)
	srv.Env = append(env, "SYSCOPE_WORKLOAD=server")
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("server: %q", line)
	}
	cl := exec.Command(wl)
	cl.Env = append(env, "SYSCOPE_WORKLOAD=client")
	cl.Stderr = os.Stderr
	if err := cl.Run(); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestLiveWorkload(t *testing.T) {
	livetest.NeedLive(t)
	dir := t.TempDir()
	bin := livetest.Build(t, dir, "github.com/syscope/syscope/cmd/syscope", "syscope")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wl := filepath.Join(dir, workloadName)
	if b, err := os.ReadFile(self); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(wl, b, 0o755); err != nil {
		t.Fatal(err)
	}
	tcp, udp := freePort(t, "tcp"), freePort(t, "udp")
	file := filepath.Join(dir, "live.scap")
	livetest.Capture(t, bin, file, []string{"-s", "256"}, func() { runWorkload(t, wl, tcp, udp) })

	resolv, _ := os.ReadFile("/etc/resolv.conf")
	sq := func(s string) string { return s }
	checks := []struct {
		name   string
		filter string
		format string
		want   string // a substring of one output line
	}{
		{"open resolv.conf", "proc.name=" + workloadName + " and evt.type=openat and evt.dir=< and evt.arg.name=/etc/resolv.conf",
			"%evt.type %fd.name %evt.arg.flags", "openat /etc/resolv.conf O_RDONLY|O_CLOEXEC"},
		{"read resolv.conf", "proc.name=" + workloadName + " and evt.type=read and evt.dir=< and fd.name=/etc/resolv.conf and evt.rawres>0",
			"%evt.rawres %evt.buffer", strconv.Itoa(len(resolv))},
		{"failed open", "proc.name=" + workloadName + " and evt.type=openat and evt.dir=< and evt.arg.name=/nonexistent-syscope-live",
			"%evt.res %evt.failed", "ENOENT true"},
		{"tcp connect", fmt.Sprintf("proc.name=%s and evt.type=connect and evt.dir=< and fd.sport=%d", workloadName, tcp),
			"%fd.name %fd.l4proto", fmt.Sprintf("->127.0.0.1:%d tcp", tcp)},
		{"tcp accept", fmt.Sprintf("proc.name=%s and evt.type in (accept,accept4) and evt.dir=< and fd.sport=%d", workloadName, tcp),
			"%evt.type %fd.name", fmt.Sprintf("->127.0.0.1:%d", tcp)},
		{"request sent", fmt.Sprintf("proc.name=%s and evt.is_io_write=true and fd.sport=%d", workloadName, tcp),
			"%evt.buffer", sq("GET /syscope HTTP/1.0")},
		{"request received", fmt.Sprintf("proc.name=%s and evt.is_io_read=true and fd.sport=%d and evt.dir=<", workloadName, tcp),
			"%evt.buffer", "GET /syscope HTTP/1.0"},
		{"response received", fmt.Sprintf("proc.name=%s and evt.is_io_read=true and fd.sport=%d and evt.dir=< and evt.rawres>0", workloadName, tcp),
			"%evt.buffer", "hello"},
		{"udp sent", fmt.Sprintf("proc.name=%s and evt.is_io_write=true and fd.l4proto=udp and evt.dir=<", workloadName),
			"%fd.name %evt.buffer", fmt.Sprintf("127.0.0.1:%d udp-ping-from-syscope", udp)},
		{"udp received", fmt.Sprintf("proc.name=%s and evt.is_io_read=true and fd.l4proto=udp and evt.dir=< and evt.rawres>0", workloadName),
			"%evt.buffer", "udp-ping-from-syscope"},
		{"execve", "evt.type=execve and evt.dir=< and proc.name=true and proc.pname=" + workloadName,
			"%proc.exe %proc.args %evt.res", "/bin/true syscope-arg SUCCESS"},
		{"procexit", "evt.type=procexit and proc.name=" + workloadName,
			"%evt.type %evt.arg.status", "procexit 0"},
	}
	for _, c := range checks {
		out := livetest.Run(t, bin, "-r", file, "-p", c.format, c.filter)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: no line with %q for filter %q; got:\n%s", c.name, c.want, c.filter, out)
		}
	}

	checkThreadOrder(t, livetest.Run(t, bin, "-r", file, "-p", "%thread.tid %evt.rawtime %evt.cpu"))

	if _, err := exec.LookPath("sysdig"); err != nil {
		t.Skip("sysdig is not installed: the comparison with sysdig 0.29.3 is skipped")
	}
	ours := livetest.Run(t, bin, "-r", file)
	theirs := livetest.Run(t, "sysdig", "-r", file)
	if ours != theirs {
		t.Errorf("sysdig and syscope print different lines for the live capture:\n%s", livetest.FirstDiffs(ours, theirs, 5))
	}
	t.Logf("%d lines, identical under sysdig and syscope", strings.Count(ours, "\n"))
}

// checkThreadOrder checks that each thread's events come in the order they
// happened, whichever CPUs ran them: each CPU has its own ring buffer, and a
// thread that moves between CPUs has its events in several. The lines are
// "tid rawtime cpu".
func checkThreadOrder(t *testing.T, out string) {
	t.Helper()
	last := map[string]uint64{}
	cpus := map[string]bool{}
	n, bad := 0, 0
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		ts, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("bad timestamp in %q", line)
		}
		n++
		cpus[f[2]] = true
		if prev, ok := last[f[0]]; ok && ts < prev {
			if bad++; bad <= 5 {
				t.Errorf("thread %s: an event at %d after one at %d", f[0], ts, prev)
			}
		}
		last[f[0]] = ts
	}
	if bad > 0 {
		t.Errorf("%d of %d events come before an earlier event of their thread", bad, n)
		return
	}
	t.Logf("%d events of %d threads on %d CPUs, each thread's in order", n, len(last), len(cpus))
}

package nsenter

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// target starts a sleeping process in new namespaces (unshare(1) from
// util-linux) with its own hostname, and returns its pid.
func target(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (joins namespaces)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not found")
	}
	cmd := exec.Command("unshare", "--net", "--uts", "--ipc", "--mount", "--pid", "--fork",
		"sh", "-c", "hostname nsenter-test-host && exec sleep 30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare forks: the sleeping process is its child; wait for the exec.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		kids, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task", strconv.Itoa(cmd.Process.Pid), "children"))
		if f := strings.Fields(string(kids)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			if comm, _ := os.ReadFile(filepath.Join("/proc", f[0], "comm")); strings.TrimSpace(string(comm)) == "sleep" {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the target process did not start")
	return 0
}

func nsID(t *testing.T, pid int, k Kind) string {
	t.Helper()
	s, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "ns", string(k)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunJoinsNamespaces(t *testing.T) {
	pid := target(t)
	tests := []struct {
		kinds []Kind
		argv  []string
		want  func() string
	}{
		{[]Kind{Net}, []string{"readlink", "/proc/self/ns/net"}, func() string { return nsID(t, pid, Net) }},
		{[]Kind{UTS}, []string{"hostname"}, func() string { return "nsenter-test-host" }},
		{[]Kind{IPC}, []string{"readlink", "/proc/self/ns/ipc"}, func() string { return nsID(t, pid, IPC) }},
		{[]Kind{Mount}, []string{"readlink", "/proc/self/ns/mnt"}, func() string { return nsID(t, pid, Mount) }},
		// In the target's pid namespace (whose init is the sleep, pid 1),
		// the child is a new process; /proc is still the host's, so its
		// own status shows the pid in every namespace it is in.
		{[]Kind{PID}, []string{"sh", "-c", "grep NSpid /proc/self/status | awk '{print NF-1}'"}, func() string { return "2" }},
	}
	for _, tc := range tests {
		t.Run(string(tc.kinds[0]), func(t *testing.T) {
			out, err := os.CreateTemp(t.TempDir(), "out")
			if err != nil {
				t.Fatal(err)
			}
			code, err := Run(Command{Target: pid, Kinds: tc.kinds, Argv: tc.argv, Stdout: out, Stderr: os.Stderr})
			if err != nil || code != 0 {
				t.Fatalf("Run: code %d, err %v", code, err)
			}
			b, _ := os.ReadFile(out.Name())
			if got, want := strings.TrimSpace(string(b)), tc.want(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	// No thread that runs goroutines joined the target's namespaces. (The
	// process's main thread may have: when the joining goroutine ran on it,
	// Go keeps that thread, locked and idle, instead of ending it, so
	// /proc/PID/ns of the process is not the thing to look at.)
	target := nsID(t, pid, Net)
	for i := 0; i < 64; i++ {
		ch := make(chan string)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s, _ := os.Readlink("/proc/thread-self/ns/net")
			ch <- s
		}()
		if got := <-ch; got == "" || got == target {
			t.Fatalf("a goroutine's thread is in network namespace %q (the target's: %q)", got, target)
		}
	}
}

func TestRunExitCodeAndErrors(t *testing.T) {
	pid := target(t)
	code, err := Run(Command{Target: pid, Kinds: []Kind{Net}, Argv: []string{"sh", "-c", "exit 7"}})
	if err != nil || code != 7 {
		t.Errorf("exit 7: code %d, err %v", code, err)
	}
	code, err = Run(Command{Target: pid, Kinds: []Kind{Net}, Argv: []string{"sh", "-c", "kill -TERM $$"}})
	if err != nil || code != 128+15 {
		t.Errorf("killed by SIGTERM: code %d, err %v", code, err)
	}
	if _, err := Run(Command{Target: pid, Kinds: []Kind{Net}, Argv: []string{"/no/such/command"}}); err == nil {
		t.Error("a missing command ran")
	}
	if _, err := Run(Command{Target: 1 << 30, Kinds: []Kind{Net}, Argv: []string{"true"}}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("a dead target: err %v, want one saying the process is gone", err)
	}
}

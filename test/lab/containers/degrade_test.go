package containers

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/test/livetest"
)

// TestDeadMetadataSources: a live capture whose container runtime sockets
// and Kubernetes API server do not answer goes on, says so once per source,
// and writes a readable file.
func TestDeadMetadataSources(t *testing.T) {
	livetest.NeedLive(t)
	dir := t.TempDir()
	syscope := livetest.Build(t, dir, "github.com/syscope/syscope/cmd/syscope", "syscope")
	// A socket file nobody listens on any more: connections are refused.
	dead := filepath.Join(dir, "dead.sock")
	l, err := net.Listen("unix", dead)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	// A port nobody listens on, on loopback.
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := "https://" + pl.Addr().String()
	pl.Close()

	file := filepath.Join(dir, "dead.scap")
	cmd := exec.Command(syscope, "-M", "2", "-w", file, "--cri", dead, "--docker", filepath.Join(dir, "absent.sock"), "-k", api)
	cmd.Env = append(os.Environ(), "KUBECONFIG=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("syscope: %v\n%s", err, out)
	}
	msgs := string(out)
	t.Logf("%s", msgs)
	for _, want := range []string{dead, "absent.sock", "Kubernetes"} {
		n := 0
		for _, l := range strings.Split(msgs, "\n") {
			if strings.Contains(l, want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d messages naming %q, want 1", n, want)
		}
	}
	n := strings.Count(livetest.Run(t, syscope, "-r", file), "\n")
	if n == 0 {
		t.Error("the capture holds no events")
	}
}

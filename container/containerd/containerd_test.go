package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/syscope/syscope/container"
)

// The tests below use the containerd of the machine when there is one, and
// its ctr command to run their own containers (named syscope-test-...) in
// the "default" namespace, removed at the end.

const testImage = "docker.io/library/busybox:local"

func daemon(t *testing.T) *Client {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the containerd socket is not for us")
	}
	var sock string
	for _, e := range container.Detect() {
		if e.Kind == container.KindContainerd {
			sock = e.Socket
			break
		}
	}
	if sock == "" {
		t.Skip("no containerd socket")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Open(ctx, sock)
	if err != nil {
		t.Skipf("containerd at %s does not answer: %v", sock, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ctr runs ctr against the socket of c.
func ctr(t *testing.T, c *Client, args ...string) string {
	t.Helper()
	out, err := exec.Command("ctr", append([]string{"--address", c.socket, "-n", "default"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runCtr runs a container with ctr run -d, removed at the end of the test.
func runCtr(t *testing.T, c *Client, name string, flags ...string) {
	t.Helper()
	if _, err := exec.LookPath("ctr"); err != nil {
		t.Skip("no ctr command to run containers with")
	}
	if !strings.Contains(ctr(t, c, "images", "ls", "-q"), testImage) {
		t.Skipf("image %s not in namespace default", testImage)
	}
	args := append([]string{"run", "-d"}, flags...)
	ctr(t, c, append(args, testImage, name, "sleep", "300")...)
	t.Cleanup(func() {
		for _, args := range [][]string{{"task", "rm", "-f", name}, {"containers", "rm", name}} {
			if out, err := exec.Command("ctr", append([]string{"--address", c.socket, "-n", "default"}, args...)...).CombinedOutput(); err != nil {
				t.Errorf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	})
}

func TestContainerdLookup(t *testing.T) {
	c := daemon(t)
	name := fmt.Sprintf("syscope-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	runCtr(t, c, name, "--label", "app=syscope", "--memory-limit", fmt.Sprint(64<<20),
		"--mount", "type=bind,src=/tmp,dst=/hosttmp,options=rbind:ro")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := time.Now()
	x, err := c.Lookup(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first Lookup (index built) took %v; containerd %s", time.Since(start), c.Version())
	if x.ID != name || x.FullID != name || x.Name != name || x.Type != container.TypeContainerd || x.Ext.Namespace != "default" ||
		x.Image != testImage || x.ImageRepo != "docker.io/library/busybox" || x.ImageTag != "local" ||
		x.Labels["app"] != "syscope" || x.MemoryLimit != 64<<20 || x.Privileged {
		t.Errorf("Lookup = %s", x.JSON())
	}
	if len(x.Mounts) != 1 || x.Mounts[0] != (container.Mount{Source: "/tmp", Dest: "/hosttmp", RW: false}) {
		t.Errorf("mounts %+v", x.Mounts)
	}

	// The image's digest and id, as ctr sees them.
	var digest string
	for _, l := range strings.Split(ctr(t, c, "images", "ls"), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == testImage {
			digest = f[2]
		}
	}
	var manifest struct {
		Config struct{ Digest string }
	}
	if err := json.Unmarshal([]byte(ctr(t, c, "content", "get", digest)), &manifest); err != nil {
		t.Fatal(err)
	}
	if x.ImageDigest != digest || "sha256:"+x.ImageID != manifest.Config.Digest {
		t.Errorf("image digest %q id %q, want %q %q", x.ImageDigest, x.ImageID, digest, manifest.Config.Digest)
	}

	// Its threads: sysdig cannot say, the cgroup index can.
	if x.Ext.Pid == 0 || len(x.Ext.Cgroups) != 1 {
		t.Fatalf("pid %d cgroups %q", x.Ext.Pid, x.Ext.Cgroups)
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", x.Ext.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cg), ":"+x.Ext.Cgroups[0]+"\n") {
		t.Errorf("cgroup %s not in\n%s", x.Ext.Cgroups[0], cg)
	}
	var cgroups []string
	for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && f[1] != "" {
			cgroups = append(cgroups, f[1]+"="+f[2])
		}
	}
	if id := container.IDFromCgroups(cgroups); id != "" {
		t.Errorf("sysdig's rules find id %q in %q", id, cgroups)
	}
	for _, p := range []string{x.Ext.Cgroups[0], x.Ext.Cgroups[0] + "/sub"} {
		y, err := c.LookupCgroup(ctx, p)
		if err != nil || y.ID != name {
			t.Errorf("LookupCgroup(%s) = %v, %v", p, y, err)
		}
	}
	if _, err := c.LookupCgroup(ctx, "/default/syscope-none"); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("LookupCgroup of no container: %v", err)
	}
	if _, err := c.Lookup(ctx, "syscope-none"); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Lookup of no container: %v", err)
	}

	const n = 20
	start = time.Now()
	for i := 0; i < n; i++ {
		if _, err := c.Lookup(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("lookup latency (indexed): %v on average over %d", time.Since(start)/n, n)
	start = time.Now()
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("List: %d containers in %v", len(list), time.Since(start))
}

// TestContainerdResolver resolves a ctr container's thread by its cgroup,
// through a Resolver.
func TestContainerdResolver(t *testing.T) {
	c := daemon(t)
	name := fmt.Sprintf("syscope-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	runCtr(t, c, name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := c.Lookup(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	r := container.NewResolver([]container.Source{c})
	defer r.Close()
	start := time.Now()
	r.Request("", x.Ext.Cgroups[0])
	select {
	case y := <-r.Updates():
		t.Logf("resolved by cgroup in %v", time.Since(start))
		if y.ID != name || y.LookupState != container.LookupSuccessful {
			t.Errorf("update %v", y)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update")
	}
	if id, ok := r.IDForCgroup(x.Ext.Cgroups[0]); !ok || id != name {
		t.Errorf("IDForCgroup = %q, %v", id, ok)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		check func(*container.Info) bool
	}{
		{"privileged", `{"process":{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_ADMIN"]}},"linux":{"cgroupsPath":"/default/x"}}`,
			func(x *container.Info) bool { return x.Privileged && x.Ext.Cgroups[0] == "/default/x" }},
		{"masked paths", `{"process":{"capabilities":{"bounding":["CAP_SYS_ADMIN"]}},"linux":{"maskedPaths":["/proc/kcore"]}}`,
			func(x *container.Info) bool { return !x.Privileged }},
		{"systemd cgroup", `{"linux":{"cgroupsPath":"system.slice:ctr:x","resources":{"cpu":{"shares":512,"quota":20000,"period":50000,"cpus":"0-1"}}}}`,
			func(x *container.Info) bool {
				return x.Ext.Cgroups[0] == "/system.slice/ctr-x.scope" && x.CPUShares == 512 && x.CPUQuota == 20000 &&
					x.CPUPeriod == 50000 && x.CPUSetCount == 2
			}},
		{"no spec", ``, func(x *container.Info) bool { return x.CPUShares == 1024 && len(x.Ext.Cgroups) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctr := &containersapi.Container{ID: "x", Labels: map[string]string{"nerdctl/name": "web"}}
			if tt.spec != "" {
				ctr.Spec = &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", Value: []byte(tt.spec)}
			}
			x := describe("default", ctr, 7)
			if x.Name != "web" || x.Ext.Pid != 7 || !tt.check(x) {
				t.Errorf("describe = %s", x.JSON())
			}
		})
	}
}

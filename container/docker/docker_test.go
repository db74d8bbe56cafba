package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/container"
)

// The tests below use the Docker daemon of the machine when there is one:
// they create their own containers (named syscope-test-...) and remove them.

const testImage = "busybox:local"

// daemon returns a client of the machine's Docker daemon, or skips.
func daemon(t *testing.T) *Client {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the Docker socket is not for us")
	}
	var sock string
	for _, e := range container.Detect() {
		if e.Kind == container.KindDocker {
			sock = e.Socket
			break
		}
	}
	if sock == "" {
		t.Skip("no Docker socket (" + strings.Join(container.DefaultDockerSockets, ", ") + ")")
	}
	c := New(sock)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Skipf("Docker at %s does not answer: %v", sock, err)
	}
	var img struct{ ID string }
	if err := c.get(ctx, "/images/"+testImage+"/json", &img); err != nil {
		t.Skipf("image %s not loaded: %v", testImage, err)
	}
	return c
}

// call sends a request with a JSON body to the daemon.
func (c *Client) call(ctx context.Context, method, path string, body any, out any) error {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var m struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, m.Message)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// run creates and starts a container, removed at the end of the test.
func run(t *testing.T, c *Client, name string, config map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var created struct {
		ID string `json:"Id"`
	}
	if err := c.call(ctx, "POST", "/containers/create?name="+name, config, &created); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.call(ctx, "DELETE", "/containers/"+created.ID+"?force=1&v=1", nil, nil); err != nil {
			t.Errorf("removing %s: %v", name, err)
		}
	})
	if err := c.call(ctx, "POST", "/containers/"+created.ID+"/start", nil, nil); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

func uniqueName(t *testing.T) string {
	return fmt.Sprintf("syscope-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
}

func TestDockerLookup(t *testing.T) {
	c := daemon(t)
	name := uniqueName(t)
	full := run(t, c, name, map[string]any{
		"Image":  testImage,
		"Cmd":    []string{"sleep", "300"},
		"Labels": map[string]string{"app": "syscope", "long": strings.Repeat("x", 101)},
		"Env":    []string{"MESOS_TASK_ID=t.1", "OTHER=1"},
		"Healthcheck": map[string]any{
			"Test": []string{"CMD", "/bin/true", "'a'"}, "Interval": int64(time.Hour),
		},
		"HostConfig": map[string]any{
			"Memory": 64 << 20, "NanoCpus": 500000000, "CpusetCpus": "0",
			"Binds": []string{"/tmp:/hosttmp:ro"},
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var img struct {
		ID string `json:"Id"`
	}
	if err := c.get(ctx, "/images/"+testImage+"/json", &img); err != nil {
		t.Fatal(err)
	}
	want := container.NewInfo(full[:12], container.TypeDocker)
	want.FullID = full
	want.Name = name
	want.Image, want.ImageRepo, want.ImageTag = testImage, "busybox", "local"
	want.ImageID = strings.TrimPrefix(img.ID, "sha256:")
	want.Labels = map[string]string{"app": "syscope"}
	want.Env = []string{"MESOS_TASK_ID=t.1"} // all the JSON keeps
	want.MemoryLimit = 64 << 20
	want.CPUQuota, want.CPUSetCount = 50000, 1
	want.Probes = []container.Probe{{Type: container.ProbeHealth, Exe: "/bin/true", Args: []string{"a"}}}
	want.Mounts = []container.Mount{{Source: "/tmp", Dest: "/hosttmp", Mode: "ro", RW: false, Propagation: "rprivate"}}
	want.Ext.Source = "docker"

	for _, id := range []string{full, full[:12]} {
		start := time.Now()
		x, err := c.Lookup(ctx, id)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", id, err)
		}
		t.Logf("Lookup(%s) took %v", id[:12], time.Since(start))
		if x.Ext.Pid == 0 || x.CreatedTime < time.Now().Add(-time.Hour).Unix() {
			t.Errorf("pid %d, created %d", x.Ext.Pid, x.CreatedTime)
		}
		// The container's threads name it.
		cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", x.Ext.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if got := container.IDFromCgroups(procCgroups(string(cg))); got != x.ID {
			t.Errorf("its cgroups give id %q, Lookup %q", got, x.ID)
		}
		// What depends on the daemon's settings: -1 or twice the memory.
		want.Ext.Pid, want.CreatedTime, want.SwapLimit = x.Ext.Pid, x.CreatedTime, x.SwapLimit
		if got, w := string(x.JSON()), string(want.JSON()); got != w {
			t.Errorf("Lookup(%s):\n got %s\nwant %s", id[:12], got, w)
		}
		if !strings.Contains(strings.Join(x.Env, " "), "MESOS_TASK_ID=t.1 OTHER=1") {
			t.Errorf("env %q", x.Env)
		}
	}

	// Latency of a lookup (the image inspection is cached after the first).
	const n = 20
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := c.Lookup(ctx, full[:12]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("lookup latency: %v on average over %d", time.Since(start)/n, n)

	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range list {
		found = found || x.FullID == full
	}
	if !found {
		t.Errorf("List (%d containers) misses %s", len(list), name)
	}
}

// TestDockerSharedNetwork checks that a container in another's network
// namespace gets the other's address, and that a privileged-like container
// reads unprivileged (only --privileged is).
func TestDockerSharedNetwork(t *testing.T) {
	c := daemon(t)
	first := run(t, c, uniqueName(t), map[string]any{"Image": testImage, "Cmd": []string{"sleep", "300"}})
	second := run(t, c, uniqueName(t), map[string]any{"Image": testImage, "Cmd": []string{"sleep", "300"},
		"HostConfig": map[string]any{"NetworkMode": "container:" + first, "CapAdd": []string{"ALL"}, "CapDrop": []string{"SYS_RESOURCE"},
			"SecurityOpt": []string{"seccomp=unconfined"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := c.Lookup(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Lookup(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if a.IP != b.IP || b.Privileged {
		t.Errorf("first %v ip %v, second %v ip %v privileged %v", a, a.IP, b, b.IP, b.Privileged)
	}
}

func TestDockerNotFound(t *testing.T) {
	c := daemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, id := range []string{"000000000000", "../version", ""} {
		if _, err := c.Lookup(ctx, id); !errors.Is(err, container.ErrNotFound) {
			t.Errorf("Lookup(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestDockerUnreachable(t *testing.T) {
	c := New(t.TempDir() + "/none.sock")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.Lookup(ctx, "0123456789ab")
	if err == nil || errors.Is(err, container.ErrNotFound) {
		t.Errorf("Lookup on a missing socket: %v, want a connection error", err)
	}
}

// procCgroups turns /proc/PID/cgroup into "subsystem=path" entries.
func procCgroups(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && f[1] != "" {
			out = append(out, f[1]+"="+f[2])
		}
	}
	return out
}

func TestProbes(t *testing.T) {
	spec := func(s string) map[string]string {
		return map[string]string{"annotation.kubectl.kubernetes.io/last-applied-configuration": s}
	}
	hc := json.RawMessage(`{"Test":["CMD-SHELL","curl -f localhost"]}`)
	tests := []struct {
		name   string
		labels map[string]string
		hc     json.RawMessage
		want   []container.Probe
	}{
		{"none", nil, nil, nil},
		{"NONE", nil, json.RawMessage(`{"Test":["NONE"]}`), nil},
		{"shell", nil, hc, []container.Probe{{Type: container.ProbeHealth, Exe: "/bin/sh", Args: []string{"-c", "curl -f localhost"}}}},
		{"cmd", nil, json.RawMessage(`{"Test":["CMD","\"/bin/check\"","-v"]}`), []container.Probe{{Type: container.ProbeHealth, Exe: "/bin/check", Args: []string{"-v"}}}},
		{"liveness wins", spec(`{"spec":{"containers":[{"livenessProbe":{"exec":{"command":["cat","/ok"]}}}]}}`), hc,
			[]container.Probe{{Type: container.ProbeLiveness, Exe: "cat", Args: []string{"/ok"}}}},
		{"readiness", spec(`{"spec":{"containers":[{"readinessProbe":{"exec":{"command":["ls"]}}}]}}`), hc,
			[]container.Probe{{Type: container.ProbeReadiness, Exe: "ls"}}},
		{"http liveness: health check", spec(`{"spec":{"containers":[{"livenessProbe":{"httpGet":{}}}]}}`), hc,
			[]container.Probe{{Type: container.ProbeHealth, Exe: "/bin/sh", Args: []string{"-c", "curl -f localhost"}}}},
		{"bad spec", spec(`{`), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probes(tt.labels, tt.hc)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("probes = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestImageApply(t *testing.T) {
	tests := []struct {
		name             string
		repo             string
		ii               string
		wantRepo, wantTa string
		wantDigest       string
	}{
		{"tag from RepoTags", "busybox", `{"RepoTags":["busybox:local"],"RepoDigests":[]}`, "busybox", "local", ""},
		{"digest by repository", "nginx", `{"RepoTags":["nginx:1.25"],"RepoDigests":["docker.io/library/nginx@sha256:aa","other@sha256:bb"]}`, "nginx", "1.25", "sha256:aa"},
		{"single digest", "mine", `{"RepoTags":["mine:v1"],"RepoDigests":["x/y@sha256:cc"]}`, "mine", "v1", "sha256:cc"},
		{"no name: from the first", "", `{"RepoTags":["reg:5000/app:v2"],"RepoDigests":["reg:5000/app@sha256:dd"]}`, "reg:5000/app", "v2", "sha256:dd"},
		{"podman digest", "x", `{"Digest":"sha256:ee","RepoTags":["x:1"]}`, "x", "1", "sha256:ee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ii imageInspection
			if err := json.Unmarshal([]byte(tt.ii), &ii); err != nil {
				t.Fatal(err)
			}
			x := &container.Info{ImageRepo: tt.repo}
			ii.apply(x)
			if x.ImageRepo != tt.wantRepo || x.ImageTag != tt.wantTa || x.ImageDigest != tt.wantDigest {
				t.Errorf("repo %q tag %q digest %q", x.ImageRepo, x.ImageTag, x.ImageDigest)
			}
		})
	}
}

package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/syscope/syscope/container"
)

// The tests below use the CRI runtime of the machine when there is one:
// they create their own pod (namespace syscope-test) and remove it.

const (
	testImage  = "docker.io/library/busybox:local"
	pauseImage = "registry.k8s.io/pause:3.10"
)

// runtimeClient returns a client of the machine's CRI runtime, or skips.
func runtimeClient(t *testing.T) *Client {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the CRI socket is not for us")
	}
	var sock string
	for _, e := range container.Detect() {
		if e.Kind == container.KindCRI {
			sock = e.Socket
			break
		}
	}
	if sock == "" {
		t.Skip("no CRI socket (" + strings.Join(container.DefaultCRISockets, ", ") + ")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Open(ctx, sock)
	if err != nil {
		t.Skipf("CRI at %s does not answer: %v", sock, err)
	}
	t.Cleanup(func() { c.Close() })
	for _, img := range []string{testImage, pauseImage} {
		st, err := c.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: img}})
		if err != nil || st.Image == nil {
			t.Skipf("image %s not in the runtime (%v)", img, err)
		}
	}
	return c
}

// pod runs a pod sandbox in the host's network (no CNI needed) with one
// container, as kubelet would create them, and removes it at the end.
func pod(t *testing.T, c *Client, name string) (sandboxID, containerID string, cfg *runtimeapi.ContainerConfig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uid := fmt.Sprintf("uid-%d", time.Now().UnixNano())
	sbCfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "syscope-test", Uid: uid},
		Labels:   map[string]string{"app": "syscope", "io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": "syscope-test", "io.kubernetes.pod.uid": uid},
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}}},
	}
	sb, err := c.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
			t.Errorf("StopPodSandbox: %v", err)
		}
		if _, err := c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
			t.Errorf("RemovePodSandbox: %v", err)
		}
	})
	img, err := c.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: testImage}})
	if err != nil {
		t.Fatal(err)
	}
	cfg = &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "main"},
		// kubelet passes the image id.
		Image:   &runtimeapi.ImageSpec{Image: img.Image.Id, UserSpecifiedImage: testImage},
		Command: []string{"sleep", "300"},
		Envs:    []*runtimeapi.KeyValue{{Key: "MESOS_TASK_ID", Value: []byte("t.1")}, {Key: "OTHER", Value: []byte("1")}},
		Labels: map[string]string{"io.kubernetes.container.name": "main", "io.kubernetes.pod.name": name,
			"io.kubernetes.pod.namespace": "syscope-test", "io.kubernetes.pod.uid": uid, "long": strings.Repeat("x", 101)},
		Mounts: []*runtimeapi.Mount{{HostPath: "/tmp", ContainerPath: "/hosttmp", Readonly: true}},
		Linux: &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
			MemoryLimitInBytes: 64 << 20, CpuQuota: 50000, CpuPeriod: 100000, CpuShares: 512}},
	}
	cr, err := c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: cfg, SandboxConfig: sbCfg})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := c.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cr.ContainerId}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return sb.PodSandboxId, cr.ContainerId, cfg
}

func TestCRILookup(t *testing.T) {
	c := runtimeClient(t)
	name := fmt.Sprintf("syscope-test-%d", os.Getpid())
	sbID, id, cfg := pod(t, c, name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	want := container.NewInfo(id[:12], c.Type())
	want.FullID = id
	want.Name = "main"
	want.ImageID = strings.TrimPrefix(cfg.Image.Image, "sha256:")
	want.Labels = map[string]string{}
	for k, v := range cfg.Labels {
		want.SetLabel(k, v)
	}
	want.SetLabel("io.kubernetes.sandbox.id", sbID) // added for k8s.pod.label.*
	want.Env = []string{"MESOS_TASK_ID=t.1"}        // all the JSON keeps
	want.Mounts = []container.Mount{{Source: "/tmp", Dest: "/hosttmp", RW: false, Propagation: "private"}}
	want.MemoryLimit, want.SwapLimit, want.CPUQuota, want.CPUPeriod, want.CPUShares = 64<<20, 64<<20, 50000, 100000, 512
	want.Ext.Source = "cri"

	for _, q := range []string{id, id[:12]} {
		start := time.Now()
		x, err := c.Lookup(ctx, q)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", q, err)
		}
		t.Logf("Lookup(%s) took %v (%s)", q[:12], time.Since(start), c.Runtime())
		p := x.Ext.Pod
		if p == nil || p.Name != name || p.Namespace != "syscope-test" || p.SandboxID != sbID || !p.HostNet || p.Labels["app"] != "syscope" {
			t.Errorf("pod %+v", p)
		}
		if x.Ext.Pid == 0 || len(x.Ext.Cgroups) != 1 || x.CreatedTime < time.Now().Add(-time.Hour).Unix() {
			t.Errorf("pid %d cgroups %q created %d", x.Ext.Pid, x.Ext.Cgroups, x.CreatedTime)
		}
		// The image is what the runtime says: containerd names it
		// (kubelet asked for the id), other runtimes may not.
		if x.Image != testImage && x.Image != cfg.Image.Image {
			t.Errorf("image %q", x.Image)
		}
		want.Image = x.Image
		want.ImageRepo, want.ImageTag, _ = container.SplitImage(want.Image)
		// The digest comes from the image reference when it has one.
		want.ImageDigest = x.ImageDigest
		if x.ImageDigest != "" && !strings.HasPrefix(x.ImageDigest, "sha256:") {
			t.Errorf("digest %q", x.ImageDigest)
		}
		want.Ext.Pid, want.CreatedTime, want.Ext.Cgroups, want.Ext.Pod = x.Ext.Pid, x.CreatedTime, x.Ext.Cgroups, x.Ext.Pod
		if got, w := string(x.JSON()), string(want.JSON()); got != w {
			t.Errorf("Lookup(%s):\n got %s\nwant %s", q[:12], got, w)
		}
		// The container's threads name it, and their cgroup is the one the
		// spec gives.
		cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", x.Ext.Pid))
		if err != nil {
			t.Fatal(err)
		}
		cgroups := procCgroups(string(cg))
		if got := container.IDFromCgroups(cgroups); got != x.ID {
			t.Errorf("its cgroups %q give id %q, Lookup %q", cgroups, got, x.ID)
		}
		if !strings.Contains(string(cg), ":"+x.Ext.Cgroups[0]+"\n") {
			t.Errorf("cgroup %s not in\n%s", x.Ext.Cgroups[0], cg)
		}
	}

	sb, err := c.Lookup(ctx, sbID[:12])
	if err != nil {
		t.Fatal(err)
	}
	if !sb.IsPodSandbox || sb.ID != sbID[:12] || sb.Name != "" || sb.Ext.Pod == nil || sb.Ext.Pod.Name != name {
		t.Errorf("sandbox %v %+v", sb, sb.Ext.Pod)
	}

	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, x := range list {
		seen[x.ID] = true
	}
	if !seen[id[:12]] || !seen[sbID[:12]] {
		t.Errorf("List (%d) misses the container or the sandbox", len(list))
	}

	const n = 20
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := c.Lookup(ctx, id[:12]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("lookup latency: %v on average over %d", time.Since(start)/n, n)
}

func TestCRINotFound(t *testing.T) {
	c := runtimeClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Lookup(ctx, "000000000000"); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Lookup: %v, want ErrNotFound", err)
	}
}

func TestCRIUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := Open(ctx, t.TempDir()+"/none.sock"); err == nil {
		t.Error("Open of a missing socket succeeded")
	}
}

func TestVerboseInfo(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		priv bool
		mem  int64
		img  string
	}{
		{"containerd", `{"config":{"linux":{"security_context":{"privileged":true}},"image":{"image":"sha256:abc"}},"runtimeSpec":{"linux":{"resources":{"memory":{"limit":1024}}}}}`, true, 1024, "abc"},
		{"cri-o", `{"privileged":true,"config":{"image":{"image":"quay.io/x"}}}`, true, 0, "quay.io/x"},
		{"old containerd wins", `{"runtimeSpec":{"linux":{"security_context":{"privileged":false}}},"privileged":true}`, false, 0, ""},
		{"image name", `{"config":{"image":{"image":"docker.io/library/busybox:local"}}}`, false, 0, "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in verboseInfo
			if err := json.Unmarshal([]byte(tt.doc), &in); err != nil {
				t.Fatal(err)
			}
			x := container.NewInfo("x", container.TypeContainerd)
			in.apply(x)
			if x.Privileged != tt.priv || x.MemoryLimit != tt.mem || x.SwapLimit != tt.mem || x.ImageID != tt.img {
				t.Errorf("privileged %v memory %d/%d image id %q", x.Privileged, x.MemoryLimit, x.SwapLimit, x.ImageID)
			}
		})
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

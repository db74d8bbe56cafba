package container_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/container"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/internal/cli"
	"github.com/syscope/syscope/scap"
)

const (
	dockerFull = "5f37a34ed3490fbdc5734ba5d8d082736c6bfe219695760586e20e32c7b94512"
	criFull    = "3b222e9445a8b5025c4774abc612450ad191be7dcdb325880df390c2cd6e2b5b"
	failedFull = "81e1b3bdc0077260b5dbb0e54b7a130c5f466966f7d54e89db8458158aa89eba"
)

// roundTripInfos are containers as the adapters describe them.
func roundTripInfos() []*container.Info {
	d := container.NewInfo(dockerFull[:12], container.TypeDocker)
	d.FullID, d.Name, d.Image = dockerFull, "web", "busybox:local"
	d.ImageRepo, d.ImageTag, d.ImageID = "busybox", "local", "afa17e1bb5cd21a119c94ed44f496b409c337710fa41335566b13c9b42107deb"
	d.Privileged = true
	d.IP = netip.MustParseAddr("172.17.0.2")
	d.Labels = map[string]string{"app": "syscope", "quote": "a \"b\" <c>"}
	d.Mounts = []container.Mount{{Source: "/tmp", Dest: "/hosttmp", Mode: "ro", Propagation: "rprivate"}}
	d.PortMappings = []container.PortMapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80}}
	d.Probes = []container.Probe{{Type: container.ProbeHealth, Exe: "/bin/sh", Args: []string{"-c", "true"}}}
	d.MemoryLimit, d.CPUQuota, d.CPUSetCount = 64<<20, 50000, 1
	d.CreatedTime = 1700000000
	d.Ext = container.Ext{Source: "docker", Pid: 1234}

	c := container.NewInfo(criFull[:12], container.TypeContainerd)
	c.FullID, c.Name, c.Image = criFull, "main", "docker.io/library/busybox:local"
	c.ImageRepo, c.ImageTag, _ = container.SplitImage(c.Image)
	c.ImageDigest = "sha256:afa17e1bb5cd21a119c94ed44f496b409c337710fa41335566b13c9b42107deb"
	c.Labels = map[string]string{"io.kubernetes.pod.name": "mypod", "io.kubernetes.pod.namespace": "myns",
		"io.kubernetes.pod.uid": "1b2c", "io.kubernetes.container.name": "main"}
	c.Ext = container.Ext{Source: "cri", Cgroups: []string{"/k8s.io/" + criFull},
		Pod: &container.Pod{SandboxID: "6f4f", Name: "mypod", Namespace: "myns", UID: "1b2c", HostNet: true}}

	// Vanished before the lookup: what the resolver says of it.
	f := container.NewInfo(failedFull[:12], container.TypeDocker)
	f.LookupState = container.LookupFailed
	return []*container.Info{d, c, f}
}

// TestJSONRoundTrip writes the containers' JSON in a capture with a thread
// in each, and checks that sysdig 0.29.3 and syscope print the same.
func TestJSONRoundTrip(t *testing.T) {
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		t.Skip("sysdig is not installed: nothing to compare with")
	}
	infos := roundTripInfos()
	cgroups := [][]string{
		{"cpu=/docker/" + dockerFull, "memory=/docker/" + dockerFull},
		{"cpu=/k8s.io/" + criFull},
		{"cpu=/docker/" + failedFull},
		{"cpu=/"},
	}
	m := &scap.Metadata{Major: 1, Minor: 2}
	for i, cg := range cgroups {
		tid := int64(100 + i)
		m.Threads = append(m.Threads, scap.Thread{Tid: tid, Pid: tid, Ptid: 1, Comm: "sh", Exe: "sh", ExePath: "/bin/sh",
			Cwd: "/", FDLimit: 1024, Vtid: tid, Vpid: tid, Cgroups: cg, Root: "/"})
	}
	path := filepath.Join(t.TempDir(), "containers.scap")
	w, err := scap.Create(path, false, m)
	if err != nil {
		t.Fatal(err)
	}
	ts := uint64(1_700_000_000_000_000_000)
	for i, x := range infos {
		data := append(x.JSON(), 0)
		if err := w.WriteEvent(&scap.Event{Ts: ts + uint64(i), Tid: -1, Type: event.ContainerJsonV2E, NParams: 1,
			Lens: []uint32{uint32(len(data))}, Data: data, Large: true}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range cgroups {
		data := binary.LittleEndian.AppendUint64(nil, 3)
		if err := w.WriteEvent(&scap.Event{Ts: ts + 100 + uint64(i), Tid: int64(100 + i), Type: event.SyscallCloseE, NParams: 1,
			Lens: []uint32{8}, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	fields := []string{"container.id", "container.name", "container.image", "container.type", "container.image.id",
		"container.image.repository", "container.image.tag", "container.image.digest", "container.privileged",
		"container.mounts", "container.mount[0]", "container.mount.dest[/tmp]", "container.healthcheck",
		"container.liveness_probe", "k8s.pod.name", "k8s.ns.name", "k8s.pod.id", "k8s.pod.labels"}
	tests := []struct {
		name string
		args []string
	}{
		{"pc", []string{"-pc", "evt.type=close"}},
		{"pk", []string{"-pk", "evt.type=close"}},
		// "*": lines with fields sysdig cannot say too.
		{"fields", []string{"-p", "*%thread.tid %" + strings.Join(fields, "|%"), "evt.type=close"}},
		// The container events are not shown, but numbered.
		{"all events", []string{"-p", "*%evt.num %evt.type %container.id %container.name"}},
		{"json", []string{"-j", "-p", "%container.id %container.name %k8s.pod.name", "evt.type=close"}},
	}
	hostRoot := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-r", path}, tt.args...)
			// sysdig asks the CRI runtime of the machine it runs on about
			// the containers of a capture whose lookup failed, and takes its
			// type (containerd here) for theirs: HOST_ROOT hides it.
			cmd := exec.Command(sysdig, args...)
			cmd.Env = append(os.Environ(), "HOST_ROOT="+hostRoot)
			want, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("sysdig: %v\n%s", err, want)
			}
			var out, errOut bytes.Buffer
			if code := cli.Main(args, &out, &errOut); code != 0 {
				t.Fatalf("syscope: exit %d\n%s", code, errOut.String())
			}
			if got := out.String(); got != string(want) {
				t.Errorf("syscope %s:\n%s\nsysdig:\n%s", strings.Join(tt.args, " "), got, want)
			}
			if tt.name == "fields" && !strings.Contains(string(want), "mypod") {
				t.Errorf("sysdig does not see the pod:\n%s", want)
			}
		})
	}
}

package container

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

const (
	hexID   = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
	upperID = "3F2A9C1B7D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8"
)

var (
	// lateBad is an id whose last character is not hexadecimal.
	lateBad = hexID[:63] + "z"
	// earlyBad has a non-hexadecimal character at its 11th position.
	earlyBad = hexID[:10] + "z" + hexID[11:]
)

// cgroupCases are threads' cgroups and the container sysdig 0.29.3 puts
// them in (id "" for the host).
var cgroupCases = []struct {
	name    string
	cgroups []string
	id      string
	typ     Type
}{
	{"host", []string{"cpu=/", "memory=/user.slice"}, "", TypeUnknown},
	{"docker cgroupfs", []string{"cpu=/docker/" + hexID, "memory=/docker/" + hexID}, hexID[:12], TypeDocker},
	{"docker systemd", []string{"cpu=/system.slice/docker-" + hexID + ".scope"}, hexID[:12], TypeDocker},
	{"docker uppercase", []string{"cpu=/docker/" + upperID}, upperID[:12], TypeDocker},
	{"kubepods cgroupfs is docker's layout", []string{"cpu=/kubepods/burstable/pod1234/" + hexID}, hexID[:12], TypeDocker},
	{"ctr run with a hex id is docker's layout", []string{"cpu=/default/" + hexID}, hexID[:12], TypeDocker},
	{"ctr run by name", []string{"cpu=/default/mybox", "memory=/default/mybox"}, "", TypeUnknown},
	{"cri-containerd systemd", []string{"cpu=/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-" + hexID + ".scope"}, hexID[:12], TypeCRI},
	{"crio systemd", []string{"cpu=/kubepods.slice/crio-" + hexID + ".scope"}, hexID[:12], TypeCRI},
	{"crio cgroupfs", []string{"cpu=/kubepods/besteffort/pod1/crio-" + hexID}, hexID[:12], TypeCRI},
	{"containerd without SystemdCgroup", []string{"cpu=/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:" + hexID}, hexID[:12], TypeCRI},
	{"podman root", []string{"cpu=/machine.slice/libpod-" + hexID + ".scope/container"}, hexID[:12], TypePodman},
	{"podman user", []string{"cpu=/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + hexID + ".scope"}, hexID[:12], TypePodman},
	{"podman before docker", []string{"cpu=/docker/" + hexID, "memory=/machine.slice/libpod-" + upperID + ".scope"}, upperID[:12], TypePodman},
	{"docker before lxc", []string{"cpu=/lxc/box", "memory=/docker/" + hexID}, hexID[:12], TypeDocker},
	{"id at the end of a long path, bad last character", []string{"cpu=/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" + lateBad}, lateBad[:12], TypeDocker},
	{"id early in the path, bad last character", []string{"cpu=/" + lateBad}, lateBad[:12], TypeDocker},
	{"bad character early", []string{"cpu=/docker/" + earlyBad}, "", TypeUnknown},
	{"63 characters", []string{"cpu=/docker/" + hexID[:63]}, "", TypeUnknown},
	{"65 characters", []string{"cpu=/docker/" + hexID + "a"}, "", TypeUnknown},
	{"id not last", []string{"cpu=/docker/" + hexID + "/init"}, "", TypeUnknown},
	{"later cgroup", []string{"cpu=/", "cpuacct=/", "memory=/docker/" + hexID}, hexID[:12], TypeDocker},
	{"entry without '=' ends the list", []string{"cpu=/", "junk", "memory=/docker/" + hexID}, "", TypeUnknown},
	{"split at the last '='", []string{"cpu=/docker/" + hexID + "=/x"}, "", TypeUnknown},
	{"lxc", []string{"cpu=/lxc/box/sub"}, "box", TypeLXC},
	{"lxc payload", []string{"cpu=/lxc.payload/box"}, "box", TypeLXC},
	{"libvirt-lxc", []string{"cpu=/machine/vm1.libvirt-lxc"}, "vm1", TypeLibvirtLXC},
	{"libvirt-lxc systemd", []string{`cpu=/machine.slice/machine-lxc\x2dvm1.scope`}, "vm1", TypeLibvirtLXC},
	{"libvirt-lxc legacy paths are LXC's", []string{"cpu=/libvirt/lxc/vm1"}, "vm1", TypeLXC},
	{"mesos without a task id", []string{"cpu=/mesos/a9f41620-b165-4d24-abe0-af0af92e7b20"}, "", TypeUnknown},
	{"bpm", []string{"cpu=/system.slice/bpm-job_1.scope"}, "job_1", TypeBPM},
	{"bpm bad name", []string{"cpu=/bpm-a b.scope"}, "", TypeUnknown},
}

func TestMatchCgroups(t *testing.T) {
	for _, c := range cgroupCases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := MatchCgroups(c.cgroups, nil)
			if m.ID != c.id || (ok && m.Type != c.typ) || (!ok && c.typ != TypeUnknown) {
				t.Errorf("MatchCgroups(%q) = %+v, %v; want id %q type %v", c.cgroups, m, ok, c.id, c.typ)
			}
			if got := IDFromCgroups(c.cgroups); got != c.id {
				t.Errorf("IDFromCgroups = %q, want %q", got, c.id)
			}
		})
	}
}

func TestMatchHints(t *testing.T) {
	const mesos = "cpu=/mesos/a9f41620-b165-4d24-abe0-af0af92e7b20"
	rootless := []string{"cpu=/", "name=systemd=/user.slice/user-1000.slice/user@1000.service/app.slice/podman-1234.scope/" + hexID}
	tests := []struct {
		name    string
		cgroups []string
		h       Hints
		want    Match
		ok      bool
	}{
		{"mesos task", []string{mesos}, Hints{MesosTaskID: func() string { return "app.1234" }},
			Match{ID: "a9f41620-b165-4d24-abe0-af0af92e7b20", Type: TypeMesos, Cgroup: mesos[4:], MesosTaskID: "app.1234"}, true},
		{"mesos executor", []string{mesos}, Hints{MesosTaskID: func() string { return "exec" }}, Match{}, false},
		{"rootless podman", rootless, Hints{UserNSRootUID: func() (int, bool) { return 1000, true }},
			Match{ID: hexID[:12], Type: TypePodman, Cgroup: rootless[1][len("name=systemd="):], UID: 1000}, true},
		// Without podman, the name=systemd path is docker's layout.
		{"rootless podman, root namespace", rootless, Hints{UserNSRootUID: func() (int, bool) { return 0, true }},
			Match{ID: hexID[:12], Type: TypeDocker, Cgroup: rootless[1][len("name=systemd="):]}, true},
		{"rootless podman, no namespace", rootless, Hints{},
			Match{ID: hexID[:12], Type: TypeDocker, Cgroup: rootless[1][len("name=systemd="):]}, true},
		{"systemd cgroup from the hint", []string{"cpu=/"}, Hints{
			SystemdCgroup: func() string { return "/user.slice/podman-1.scope/" + hexID },
			UserNSRootUID: func() (int, bool) { return 1001, true }},
			Match{ID: hexID[:12], Type: TypePodman, Cgroup: "/user.slice/podman-1.scope/" + hexID, UID: 1001}, true},
		{"podman pid missing", []string{"name=systemd=/user.slice/podman-.scope/" + hexID + "/x"}, Hints{UserNSRootUID: func() (int, bool) { return 1000, true }}, Match{}, false},
		{"systemd cgroup from the hint, not a podman one", []string{"cpu=/"}, Hints{
			SystemdCgroup: func() string { return "/user.slice/session-1.scope/" + hexID },
			UserNSRootUID: func() (int, bool) { return 1001, true }}, Match{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchCgroups(tt.cgroups, &tt.h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("MatchCgroups = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIDFromCgroupPath(t *testing.T) {
	for _, c := range []struct{ path, id string }{
		{"/docker/" + hexID, hexID[:12]},
		{"/system.slice/crio-" + hexID + ".scope", hexID[:12]},
		{"/default/mybox", ""},
		{"/a=b/docker/" + hexID, hexID[:12]},
	} {
		if got := IDFromCgroupPath(c.path); got != c.id {
			t.Errorf("IDFromCgroupPath(%q) = %q, want %q", c.path, got, c.id)
		}
	}
}

func TestShortID(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{hexID, hexID[:12]}, {"mybox", "mybox"}, {hexID[:63] + "g", hexID[:63] + "g"}, {"", ""},
	} {
		if got := ShortID(c.in); got != c.out {
			t.Errorf("ShortID(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

func TestMesosTaskIDFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"PATH=/bin", "MESOS_EXECUTOR_ID=ex.1", "MESOS_TASK_ID= task.1 "}, "task.1"},
		{[]string{"mesos_task_id=chronos_1"}, "chronos_1"},
		{[]string{"MESOS_TASK_ID=", "MESOS_EXECUTOR_ID=ex.1"}, "ex.1"},
		{[]string{"MESOS_TASK_IDX=a.b"}, ""},
	} {
		if got := MesosTaskIDFromEnv(c.env); got != c.want {
			t.Errorf("MesosTaskIDFromEnv(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}

// TestMatchCgroupsSysdig has sysdig 0.29.3 read a capture holding one thread
// per case, and compares the container.id it prints with ours.
func TestMatchCgroupsSysdig(t *testing.T) {
	sysdig := sysdigPath(t)
	m := &scap.Metadata{Major: 1, Minor: 2}
	for i, c := range cgroupCases {
		tid := int64(1000 + i)
		m.Threads = append(m.Threads, scap.Thread{Tid: tid, Pid: tid, Ptid: 1, Comm: "t", Exe: "t", ExePath: "/t",
			Cwd: "/", FDLimit: 1024, Vtid: tid, Vpid: tid, Cgroups: c.cgroups, Root: "/"})
	}
	path := filepath.Join(t.TempDir(), "cgroups.scap")
	w, err := scap.Create(path, false, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cgroupCases {
		writeClose(t, w, uint64(1e18)+uint64(i), int64(1000+i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sysdig, "-r", path, "-p", "%thread.tid %container.id").CombinedOutput()
	if err != nil {
		t.Fatalf("sysdig: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(cgroupCases) {
		t.Fatalf("sysdig printed %d lines, want %d:\n%s", len(lines), len(cgroupCases), out)
	}
	for i, c := range cgroupCases {
		want := fmt.Sprintf("%d %s", 1000+i, orHost(c.id))
		got := fmt.Sprintf("%d %s", 1000+i, orHost(IDFromCgroups(c.cgroups)))
		if lines[i] != want {
			t.Errorf("%s: sysdig says %q, the table %q", c.name, lines[i], want)
		}
		if lines[i] != got {
			t.Errorf("%s: sysdig says %q, IDFromCgroups %q", c.name, lines[i], got)
		}
	}
}

func orHost(id string) string {
	if id == "" {
		return "host"
	}
	return id
}

// writeClose writes a close(-1) enter event of thread tid.
func writeClose(t *testing.T, w *scap.Writer, ts uint64, tid int64) {
	t.Helper()
	data := binary.LittleEndian.AppendUint64(nil, ^uint64(0))
	if err := w.WriteEvent(&scap.Event{Ts: ts, Tid: tid, Type: event.SyscallCloseE, NParams: 1, Lens: []uint32{8}, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// sysdigPath is sysdig 0.29.3, the oracle; tests that need it skip without it.
func sysdigPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("SYSCOPE_SYSDIG")
	if p == "" {
		var err error
		if p, err = exec.LookPath("sysdig"); err != nil {
			t.Skip("sysdig is not installed: nothing to compare with")
		}
	}
	return p
}

func TestCgroupPathFromSpec(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"/default/mybox", "/default/mybox"},
		{"/k8s.io/" + hexID, "/k8s.io/" + hexID},
		{"system.slice:containerd:mybox", "/system.slice/containerd-mybox.scope"},
		{":cri-containerd:abc", "/system.slice/cri-containerd-abc.scope"},
		{"kubepods-besteffort-pod12.slice:cri-containerd:" + hexID,
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-" + hexID + ".scope"},
		{"-.slice:crio:abc", "/crio-abc.scope"},
		{"user.slice::my.slice", "/user.slice/my.slice"},
		{"relative/path", "/relative/path"},
	} {
		if got := CgroupPathFromSpec(c.in); got != c.want {
			t.Errorf("CgroupPathFromSpec(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPrimaryCgroup(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"cpu=/", "memory=/"}, ""},
		{[]string{"cpuset=/a", "cpu=/b", "memory=/c"}, "/c"},
		{[]string{"cpuset=/a", "cpu=/b", "memory=/"}, "/b"},
		{[]string{"cpuset=/", "pids=/default/x"}, "/default/x"},
		{nil, ""},
	} {
		if got := PrimaryCgroup(c.in); got != c.want {
			t.Errorf("PrimaryCgroup(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCgroupIndex(t *testing.T) {
	ix := CgroupIndex{}
	ix.Add("/default/web", "web")
	ix.Add("/", "root-is-ignored")
	ix.Add("", "empty-is-ignored")
	for _, tc := range []struct {
		path, id string
		ok       bool
	}{
		{"/default/web", "web", true},
		{"/default/web/sub/deeper", "web", true},
		{"/default/webby", "", false}, // a sibling whose name starts alike
		{"/default", "", false},
		{"/", "", false},
		{"", "", false},
	} {
		if id, ok := ix.Lookup(tc.path); id != tc.id || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.path, id, ok, tc.id, tc.ok)
		}
	}
}

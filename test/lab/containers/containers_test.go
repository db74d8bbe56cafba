// Package containers checks, on the project's runtime + Kubernetes lab, that a
// live capture knows the container and the Kubernetes pod of every event: a
// docker container, a containerd container started with `ctr run`, a pod in
// namespace critical-app with label app=backend and a service selecting it,
// and a docker container started while the capture runs.
package containers

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/test/lab/labenv"
	"github.com/syscope/syscope/test/livetest"
)

// loop is the workload of every container: it reads /etc/hostname five times
// a second, for at most a minute.
const loop = "for i in $(seq 300); do cat /etc/hostname >/dev/null; sleep 0.2; done"

func TestLiveContainerMetadata(t *testing.T) {
	livetest.NeedLive(t)
	labenv.NeedLab(t)
	if _, err := os.Stat("/usr/bin/sysdig"); err != nil {
		t.Skip("sysdig 0.29.3 not installed (apt-get install sysdig): it is the oracle")
	}
	dir := t.TempDir()
	syscope := livetest.Build(t, dir, "github.com/syscope/syscope/cmd/syscope", "syscope")
	tag := strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	dockerName := "sct-docker-" + tag
	lateName := "sct-late-" + tag
	ctrName := "sct-ctr-" + tag
	const ns = "critical-app"

	cleanup := func() {
		labenv.Command("docker", "rm", "-f", dockerName, lateName).Run()
		labenv.Command("ctr", "--namespace", "default", "tasks", "kill", "-s", "KILL", ctrName).Run()
		time.Sleep(200 * time.Millisecond)
		labenv.Command("ctr", "--namespace", "default", "containers", "rm", ctrName).Run()
		labenv.Command("kubectl", "delete", "namespace", ns, "--wait=false", "--ignore-not-found").Run()
	}
	cleanup()
	t.Cleanup(cleanup)

	labenv.Docker(t, "run", "-d", "--name", dockerName, "busybox:local", "sh", "-c", loop)
	labenv.Ctr(t, "default", "run", "-d", labenv.BusyboxImage, ctrName, "sh", "-c", loop)
	// A namespace left terminating by an earlier run must be gone first.
	for i := 0; i < 120; i++ {
		if labenv.Command("kubectl", "get", "namespace", ns).Run() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	labenv.Kubectl(t, "create", "namespace", ns)
	for i := 0; i < 60; i++ { // the service account comes from the controller manager
		if labenv.Command("kubectl", "-n", ns, "get", "serviceaccount", "default").Run() == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	labenv.Kubectl(t, "-n", ns, "run", "backend", "--image="+labenv.BusyboxImage, "--image-pull-policy=Never",
		"--labels=app=backend", "--restart=Never", "--overrides", `{"spec":{"terminationGracePeriodSeconds":0}}`,
		"--", "sh", "-c", loop)
	labenv.Kubectl(t, "-n", ns, "create", "service", "clusterip", "backend", "--tcp=80:8080")
	labenv.Kubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/backend", "--timeout=90s")

	// The capture reads the API server (k8s.svc.*) through $KUBECONFIG.
	t.Setenv("KUBECONFIG", labenv.Kubeconfig())
	file := filepath.Join(dir, "containers.scap")
	livetest.Capture(t, syscope, file, []string{"-s", "256"}, func() {
		time.Sleep(time.Second)
		labenv.Docker(t, "run", "-d", "--name", lateName, "busybox:local", "sh", "-c", loop)
		time.Sleep(2 * time.Second)
	})

	// The leading * prints lines whose fields are missing (<NA>), as in sysdig.
	const fields = "*%container.name|%container.image|%container.type|%k8s.ns.name|%k8s.pod.name|%k8s.pod.label.app|%k8s.svc.name"
	const opens = "evt.type in (open, openat) and evt.dir=< and fd.name=/etc/hostname"
	lines := func(out string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" {
				m[l]++
			}
		}
		return m
	}
	ours := lines(livetest.Run(t, syscope, "-r", file, "-p", fields, opens))
	t.Logf("syscope: %v", ours)
	want := map[string]string{
		dockerName: dockerName + "|busybox:local|docker|<NA>|<NA>|<NA>|<NA>",
		lateName:   lateName + "|busybox:local|docker|<NA>|<NA>|<NA>|<NA>",
		ctrName:    ctrName + "|" + labenv.BusyboxImage + "|containerd|<NA>|<NA>|<NA>|<NA>",
		"backend":  "backend|" + labenv.BusyboxImage + "|containerd|critical-app|backend|backend|backend",
	}
	for name, line := range want {
		if ours[line] == 0 {
			t.Errorf("no open of /etc/hostname in container %s printed as\n  %s", name, line)
		}
	}

	// Filters on those fields select exactly the events whose fields say so.
	all := livetest.Run(t, syscope, "-r", file, "-p", "*%evt.num|"+fields[1:])
	count := func(col int, value string) int {
		n := 0
		for _, l := range strings.Split(all, "\n") {
			f := strings.Split(l, "|")
			if len(f) > col && f[col] == value {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		filter string
		col    int
		value  string
	}{
		{"container.name=" + dockerName, 1, dockerName},
		{"container.name=" + ctrName, 1, ctrName},
		{"container.image=busybox:local", 2, "busybox:local"},
		{"k8s.ns.name=" + ns, 4, ns},
		{"k8s.pod.name=backend", 5, "backend"},
		{"k8s.pod.label.app=backend", 6, "backend"},
		{"k8s.svc.name=backend", 7, "backend"},
	} {
		got := strings.Count(livetest.Run(t, syscope, "-r", file, "-p", "%evt.num", tc.filter), "\n")
		if want := count(tc.col, tc.value); got != want || got == 0 {
			t.Errorf("filter %q selects %d events; %d events have that value (want equal, non-zero)", tc.filter, got, want)
		}
	}

	// sysdig 0.29.3 reading the file shows the same container, pod and service
	// (containerd's own containers excepted: their cgroup paths carry no id,
	// and sysdig only knows containers by the id in the path).
	const names = "*%container.id|%container.name|%k8s.ns.name|%k8s.pod.name|%k8s.pod.label.app|%k8s.svc.name"
	theirs := lines(livetest.Run(t, "/usr/bin/sysdig", "-r", file, "-p", names, opens))
	oursNames := lines(livetest.Run(t, syscope, "-r", file, "-p", names, opens))
	for l, n := range oursNames {
		if strings.Contains(l, ctrName) || strings.HasPrefix(l, "host|") {
			continue
		}
		if theirs[l] != n {
			t.Errorf("%q: %d lines in syscope, %d in sysdig", l, n, theirs[l])
		}
	}
	for l := range theirs {
		if _, ok := oursNames[l]; !ok && !strings.HasPrefix(l, "host|") {
			t.Errorf("sysdig prints %q, syscope does not", l)
		}
	}
	if t.Failed() {
		t.Logf("sysdig: %v", theirs)
	}
}

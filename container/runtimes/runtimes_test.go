package runtimes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/container"
)

// TestResolveMachine opens the runtimes of the machine, runs a container
// with each command it finds (docker, ctr), and resolves their threads'
// cgroups through a Resolver, as the live capture does.
func TestResolveMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: the runtime sockets are not for us")
	}
	base := runtime.NumGoroutine()
	eps := container.Detect()
	srcs, errs := Open(context.Background(), eps, 0)
	for _, err := range errs {
		t.Logf("not opened: %v", err)
	}
	if len(srcs) == 0 {
		t.Skipf("no container runtime answers (endpoints %+v)", eps)
	}
	var names []string
	kinds := map[string]bool{}
	for _, s := range srcs {
		names = append(names, s.Name())
		kinds[strings.Fields(s.Name())[0]] = true
	}
	t.Logf("sources: %s", strings.Join(names, ", "))

	type workload struct{ name, cgroup string }
	var loads []workload
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := exec.LookPath("docker"); err == nil && kinds["docker"] {
		name := "syscope-test-" + suffix
		if out, err := exec.Command("docker", "run", "-d", "--name", name, "busybox:local", "sleep", "300").CombinedOutput(); err != nil {
			t.Logf("docker run: %v\n%s", err, out)
		} else {
			t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
			pid := strings.TrimSpace(output(t, "docker", "inspect", "-f", "{{.State.Pid}}", name))
			loads = append(loads, workload{name: name, cgroup: memoryCgroup(t, pid)})
		}
	}
	if _, err := exec.LookPath("ctr"); err == nil && kinds["containerd"] {
		name := "syscope-test-" + suffix
		if out, err := exec.Command("ctr", "-n", "default", "run", "-d", "docker.io/library/busybox:local", name, "sleep", "300").CombinedOutput(); err != nil {
			t.Logf("ctr run: %v\n%s", err, out)
		} else {
			t.Cleanup(func() {
				_ = exec.Command("ctr", "-n", "default", "task", "rm", "-f", name).Run()
				_ = exec.Command("ctr", "-n", "default", "containers", "rm", name).Run()
			})
			var pid string
			for _, l := range strings.Split(output(t, "ctr", "-n", "default", "task", "ls"), "\n") {
				if f := strings.Fields(l); len(f) >= 2 && f[0] == name {
					pid = f[1]
				}
			}
			loads = append(loads, workload{name: name, cgroup: memoryCgroup(t, pid)})
		}
	}
	if len(loads) == 0 {
		t.Skip("no container could be run")
	}

	r := container.NewResolver(srcs, container.WithWarn(func(s string, err error) { t.Logf("warning: %s: %v", s, err) }))
	closed := false
	defer func() {
		if !closed {
			r.Close()
		}
	}()
	for _, w := range loads {
		id := container.IDFromCgroupPath(w.cgroup)
		start := time.Now()
		r.Request(id, w.cgroup)
		select {
		case x := <-r.Updates():
			t.Logf("%s (cgroup %s, id from the path %q): %s in %v", w.name, w.cgroup, id, x, time.Since(start))
			if x.Name != w.name || x.LookupState != container.LookupSuccessful {
				t.Errorf("update %s, want %s", x, w.name)
			}
			if got, ok := r.IDForCgroup(w.cgroup); id == "" && (!ok || got != x.ID) {
				t.Errorf("IDForCgroup(%s) = %q, %v", w.cgroup, got, ok)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: no update", w.name)
		}
	}
	r.Preload()
	n := 0
	for timeout := time.After(10 * time.Second); n < len(loads); {
		select {
		case <-r.Updates():
			n++
		case <-timeout:
			t.Fatalf("Preload delivered %d containers, want at least %d", n, len(loads))
		}
	}
	st := r.Stats()
	t.Logf("stats: %+v, %v per lookup", st, st.LookupDur/time.Duration(max(st.Lookups, 1)))

	// Close stops every goroutine: the resolver's and the sources'.
	r.Close()
	closed = true
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func output(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	out, err := exec.Command(cmd, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", cmd, strings.Join(args, " "), err)
	}
	return string(out)
}

// memoryCgroup is the memory cgroup of pid (the unified one on cgroup v2).
func memoryCgroup(t *testing.T, pid string) string {
	t.Helper()
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("pid %q", pid)
	}
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var unified string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "memory" {
			return f[2]
		}
		if f[1] == "" {
			unified = f[2]
		}
	}
	return unified
}

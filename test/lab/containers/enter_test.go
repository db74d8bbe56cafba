package containers

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/test/lab/labenv"
	"github.com/syscope/syscope/test/livetest"
)

// TestEnter runs host commands in a lab pod's namespaces with `syscope enter`:
// the pod's /etc/resolv.conf (mount namespace), and an HTTP request to a
// server that listens on the pod's loopback only (network namespace); and
// checks the errors for an unknown target and a stopped container.
func TestEnter(t *testing.T) {
	labenv.NeedLab(t)
	dir := t.TempDir()
	syscope := livetest.Build(t, dir, "github.com/syscope/syscope/cmd/syscope", "syscope")
	tag := strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	const ns = "enter-test"
	stopped := "sct-stopped-" + tag
	cleanup := func() {
		labenv.Command("docker", "rm", "-f", stopped).Run()
		labenv.Command("kubectl", "delete", "namespace", ns, "--wait=false", "--ignore-not-found").Run()
	}
	cleanup()
	t.Cleanup(cleanup)
	for i := 0; i < 120; i++ { // a namespace left terminating by an earlier run
		if labenv.Command("kubectl", "get", "namespace", ns).Run() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	labenv.Kubectl(t, "create", "namespace", ns)
	for i := 0; i < 60; i++ {
		if labenv.Command("kubectl", "-n", ns, "get", "serviceaccount", "default").Run() == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// busybox httpd on the pod's loopback only: reachable from its network
	// namespace, from nowhere else.
	labenv.Kubectl(t, "-n", ns, "run", "web", "--image="+labenv.BusyboxImage, "--image-pull-policy=Never",
		"--restart=Never", "--overrides", `{"spec":{"terminationGracePeriodSeconds":0}}`,
		"--", "sh", "-c", "mkdir -p /www && echo hello-from-the-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8089 -h /www")
	labenv.Kubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=90s")

	enter := func(args ...string) (string, int) {
		cmd := exec.Command(syscope, append([]string{"enter"}, args...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}

	want := labenv.Kubectl(t, "-n", ns, "exec", "web", "--", "cat", "/etc/resolv.conf")
	got, code := enter("-m", ns+"/web", "--", "cat", "/etc/resolv.conf")
	if code != 0 || got != want {
		t.Errorf("enter -m %s/web -- cat /etc/resolv.conf: exit %d\n%s\nwant (kubectl exec):\n%s", ns, code, got, want)
	}

	// The host's bash, in the pod's network namespace only.
	req := "exec 3<>/dev/tcp/127.0.0.1/8089 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"
	got, code = enter(ns+"/web", "--", "bash", "-c", req)
	if code != 0 || !strings.Contains(got, "200 OK") || !strings.Contains(got, "hello-from-the-pod") {
		t.Errorf("enter %s/web -- bash (TCP to the pod's loopback): exit %d\n%s", ns, code, got)
	}
	if exec.Command("bash", "-c", req).Run() == nil {
		t.Error("the host reaches 127.0.0.1:8089 too: the test proves nothing")
	}

	got, code = enter(ns+"/no-such-pod", "--", "true")
	if code != 1 || !strings.Contains(got, "no pod "+ns+"/no-such-pod") {
		t.Errorf("unknown pod: exit %d, %q", code, got)
	}
	got, code = enter("no-such-container-"+tag, "--", "true")
	if code != 1 || !strings.Contains(got, "no container with id or name") {
		t.Errorf("unknown container: exit %d, %q", code, got)
	}
	labenv.Docker(t, "run", "-d", "--name", stopped, "busybox:local", "sleep", "300")
	labenv.Docker(t, "stop", "-t", "0", stopped)
	got, code = enter(stopped, "--", "true")
	if code != 1 || !strings.Contains(got, "is not running") {
		t.Errorf("stopped container: exit %d, %q", code, got)
	}
}

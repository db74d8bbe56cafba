// Package kubecapture tests kubectl capture (cmd/kubectl-capture) end to end
// on the project's Kubernetes lab (test/lab/labenv, `make lab-up`): seed 002's
// session in namespace ticket-generator, an HTTP server pod and a client pod
// calling it, captured through `kubectl capture` with the syscope image built
// from this tree; and the ways it must fail cleanly.
package kubecapture

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/test/lab/labenv"
)

const (
	ns        = "ticket-generator"
	serverA   = "ticket-server-a"
	serverB   = "ticket-server-b"
	client    = "ticket-client"
	image     = "docker.io/syscope/syscope:dev" // kubecapture.DefaultImage
	ticket    = "ticket-7f3a9c"                 // the body the servers serve
	managedBy = "app.kubernetes.io/managed-by=kubectl-capture"
)

// lab is what the subtests share.
type lab struct {
	bin     string // directory with kubectl-capture, syscope
	podUID  map[string]string
	allowed map[string]map[string]bool // pod -> its containers' ids (12 characters), sandbox included
}

func TestKubectlCapture(t *testing.T) {
	labenv.NeedLab(t)
	if _, err := os.Stat("/usr/bin/sysdig"); err != nil {
		t.Skip("sysdig 0.29.3 (/usr/bin/sysdig) is not installed")
	}
	l := setup(t)

	t.Run("pod", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, true, serverA, "-ns", ns, "-M", "10", "--snaplen", "256")
		l.checkFile(t, res, []string{serverA}, false)
	})
	t.Run("selector", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, true, "-l", "app=ticket-server", "-n", ns, "-M", "10", "--snaplen", "256", "--merge")
		l.checkFile(t, res, []string{serverA, serverB}, false)
	})
	t.Run("node", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, true, serverA, "-n", ns, "-M", "5", "--snaplen", "256", "--node")
		l.checkFile(t, res, []string{serverA}, true)
	})
	t.Run("unknown pod", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, false, "ticket-server-c", "-ns", ns, "-M", "5")
		res.failed(t, out, "pod ticket-server-c not found in namespace ticket-generator; nearest names: ticket-server-a")
	})
	t.Run("unknown namespace", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, false, serverA, "-ns", "ticket-generatr", "-M", "5")
		res.failed(t, out, "namespace ticket-generatr not found; nearest namespaces: ticket-generator")
	})
	t.Run("capture pod cannot start", func(t *testing.T) {
		out := t.TempDir()
		res := l.capture(t, out, false, serverA, "-ns", ns, "-M", "5", "--image", "docker.io/syscope/not-there:0", "--start-timeout", "60s")
		res.failed(t, out, "cannot get the capture image docker.io/syscope/not-there:0")
	})
	t.Run("no right to create pods", func(t *testing.T) {
		out := t.TempDir()
		res := l.captureAs(t, out, viewerKubeconfig(t), serverA, "-ns", ns, "-M", "5")
		res.failed(t, out, "you may not create pods, delete pods, create pods/exec in namespace ticket-generator")
		if !strings.Contains(res.stderr, "kubectl create role kubectl-capture") {
			t.Errorf("the message does not say how to grant the rights")
		}
	})
	t.Run("namespace refuses privileged pods", func(t *testing.T) {
		labenv.Kubectl(t, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=baseline")
		defer labenv.Kubectl(t, "label", "namespace", ns, "pod-security.kubernetes.io/enforce-")
		out := t.TempDir()
		res := l.capture(t, out, false, serverA, "-ns", ns, "-M", "5")
		res.failed(t, out, "namespace ticket-generator does not admit the capture pod")
		if !strings.Contains(res.stderr, "--capture-namespace") {
			t.Errorf("the message does not give the fix")
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		out := t.TempDir()
		res := l.interrupt(t, out)
		res.failed(t, out, "interrupted: the capture was abandoned and no file was written")
		if res.code != 130 {
			t.Errorf("exit status %d, want 130", res.code)
		}
	})
}

// setup builds the plugin, syscope and the syscope image from this tree,
// imports the image into the lab, and starts the servers and the client in a
// fresh namespace, deleted at the end.
func setup(t *testing.T) *lab {
	t.Helper()
	root := moduleRoot(t)
	bin := t.TempDir()
	goBuild(t, root, nil, filepath.Join(bin, "kubectl-capture"), "./cmd/kubectl-capture")
	// One static syscope, for the image and to read the files here.
	static := filepath.Join(bin, "image", "syscope")
	goBuild(t, root, []string{"CGO_ENABLED=0"}, static, "-trimpath", "./cmd/syscope")
	if err := os.Symlink(static, filepath.Join(bin, "syscope")); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(bin, "syscope-image.tar")
	cmd := exec.Command("go", "run", "./internal/mkimage", "-tag", image, "-o", tarball, static)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, out)
	}
	labenv.Ctr(t, "k8s.io", "images", "import", tarball)

	deleteNamespace(t)
	t.Cleanup(func() {
		if left := kubectlOut(t, "get", "pods", "-A", "-l", managedBy, "-o", "name"); left != "" {
			t.Errorf("capture pods left behind: %s", left)
		}
		deleteNamespace(t)
	})
	labenv.Kubectl(t, "create", "namespace", ns)
	waitFor(t, "the namespace's default service account", func() bool {
		return exec.Command(labenv.KubectlPath(), "--kubeconfig", labenv.Kubeconfig(), "-n", ns, "get", "sa", "default").Run() == nil
	})
	for _, name := range []string{serverA, serverB} {
		apply(t, fmt.Sprintf(serverPod, name, ns, ticket))
	}
	labenv.Kubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/"+serverA, "pod/"+serverB, "--timeout=90s")
	ipA := labenv.Kubectl(t, "-n", ns, "get", "pod", serverA, "-o", "jsonpath={.status.podIP}")
	ipB := labenv.Kubectl(t, "-n", ns, "get", "pod", serverB, "-o", "jsonpath={.status.podIP}")
	// A bounded loop: about 5 minutes at most, then the client ends.
	apply(t, fmt.Sprintf(clientPod, client, ns, ipA, ipB))
	labenv.Kubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/"+client, "--timeout=90s")
	waitFor(t, "the client's first answers", func() bool {
		return strings.Contains(kubectlOut(t, "-n", ns, "logs", client), ticket)
	})
	l := &lab{bin: bin, podUID: map[string]string{}, allowed: map[string]map[string]bool{}}
	for _, p := range []string{serverA, serverB} {
		uid := labenv.Kubectl(t, "-n", ns, "get", "pod", p, "-o", "jsonpath={.metadata.uid}")
		l.podUID[p] = uid
		// Every container of the pod in containerd, its sandbox included.
		ids := labenv.Ctr(t, "k8s.io", "containers", "ls", "-q", `labels."io.kubernetes.pod.uid"==`+uid)
		l.allowed[p] = map[string]bool{}
		for _, id := range strings.Fields(ids) {
			l.allowed[p][id[:12]] = true
		}
		if len(l.allowed[p]) < 2 {
			t.Fatalf("pod %s: containerd lists %q", p, ids)
		}
	}
	return l
}

const serverPod = `apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: ticket-server}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: docker.io/library/busybox:local
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "mkdir -p /www && echo %s > /www/ticket.txt && exec httpd -f -p 8080 -h /www"]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`

const clientPod = `apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: ticket-client}}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - name: client
    image: docker.io/library/busybox:local
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "for i in $(seq 1000); do for ip in %s %s; do wget -q -O - http://$ip:8080/ticket.txt; done; sleep 0.3; done"]
`

// result is one run of the plugin.
type result struct {
	code           int
	stdout, stderr string
	file           string
	took           time.Duration
}

// capture runs `kubectl capture args...` (kubectl finds the plugin on PATH)
// in dir out as the cluster admin; ok says whether it must succeed.
func (l *lab) capture(t *testing.T, out string, ok bool, args ...string) result {
	t.Helper()
	return l.run(t, out, labenv.Kubeconfig(), ok, args...)
}

// captureAs runs `kubectl capture args...` with kubeconfig, and expects it to fail.
func (l *lab) captureAs(t *testing.T, out, kubeconfig string, args ...string) result {
	t.Helper()
	return l.run(t, out, kubeconfig, false, args...)
}

func (l *lab) run(t *testing.T, out, kubeconfig string, ok bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(labenv.KubectlPath(), append([]string{"capture"}, args...)...)
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+l.bin+":"+os.Getenv("PATH"))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if ee, isExit := err.(*exec.ExitError); isExit {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl capture: %v", err)
	}
	t.Logf("kubectl capture %s: exit %d in %v\n%s", strings.Join(args, " "), res.code, res.took.Round(time.Millisecond), res.stderr)
	if ok {
		if res.code != 0 {
			t.Fatalf("exit status %d", res.code)
		}
		res.file = strings.TrimSpace(res.stdout)
		if !filepath.IsAbs(res.file) {
			res.file = filepath.Join(out, res.file)
		}
		fi, err := os.Stat(res.file)
		if err != nil {
			t.Fatalf("the file it names: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", res.file, fi.Mode().Perm())
		}
		t.Logf("file %s: %d bytes", filepath.Base(res.file), fi.Size())
	}
	noCapturePods(t)
	return res
}

// interrupt starts a 60 s capture, sends the plugin SIGINT once it captures,
// and returns how it ended.
func (l *lab) interrupt(t *testing.T, out string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(l.bin, "kubectl-capture"), serverA, "-ns", ns, "-M", "60")
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "KUBECONFIG="+labenv.Kubeconfig())
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the capture pod running", func() bool {
		return strings.Contains(kubectlOut(t, "get", "pods", "-n", ns, "-l", managedBy, "--field-selector=status.phase=Running", "-o", "name"), "pod/")
	})
	time.Sleep(3 * time.Second) // the capture has started
	cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	err := cmd.Wait()
	res := result{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if ee, isExit := err.(*exec.ExitError); isExit {
		res.code = ee.ExitCode()
	}
	t.Logf("after SIGINT: exit %d in %v\n%s", res.code, res.took.Round(time.Millisecond), res.stderr)
	noCapturePods(t)
	return res
}

// failed checks a run that must fail: non-zero status, the message, no file
// in its directory (not even a partial one), no file named on stdout.
func (r result) failed(t *testing.T, out, msg string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit status 0")
	}
	if !strings.Contains(r.stderr, msg) {
		t.Errorf("the message lacks %q", msg)
	}
	if r.stdout != "" {
		t.Errorf("a file is claimed: %q", r.stdout)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("files left in the output directory: %v", ents)
	}
}

// checkFile checks a capture of pods: the servers' HTTP requests and answers
// are in it (syscope -A), only those pods' containers unless whole, right
// Kubernetes metadata, and sysdig 0.29.3 reads it.
func (l *lab) checkFile(t *testing.T, r result, pods []string, whole bool) {
	t.Helper()
	syscope := filepath.Join(l.bin, "syscope")
	if m := regexp.MustCompile(`(\d+) events over .*capturing ([0-9.]+)s after the command started, done in ([0-9.]+)s`).FindStringSubmatch(r.stderr); m != nil {
		t.Logf("numbers: %s events, capturing after %ss, done after %ss", m[1], m[2], m[3])
	}
	// The HTTP exchange, as the servers read and wrote it.
	ascii := run(t, syscope, "-r", r.file, "-A", "proc.name=httpd and evt.dir=< and evt.type in (read, write, sendfile)")
	for _, want := range []string{"GET /ticket.txt HTTP/1.1", "HTTP/1.1 200 OK", "Content-Length: 14"} {
		if !strings.Contains(ascii, want) {
			t.Errorf("syscope -r -A: no %q in the servers' I/O", want)
		}
	}
	// Whose events: container, pod and namespace of every event.
	lines := strings.Split(strings.TrimSpace(run(t, syscope, "-r", r.file, "-p", "*%thread.tid %container.id %k8s.pod.name %k8s.ns.name %proc.name %evt.type")), "\n")
	tidOK := map[string]bool{}
	seen := map[string]int{}
	var foreign, badMeta []string
	allowed := func(cid string) string {
		for _, p := range pods {
			if l.allowed[p][cid] {
				return p
			}
		}
		return ""
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] == "<NA>" {
			continue
		}
		pod := allowed(f[1])
		if pod == "" {
			foreign = append(foreign, line)
			continue
		}
		tidOK[f[0]] = true
		seen[pod]++
		if f[2] != pod || f[3] != ns {
			badMeta = append(badMeta, line)
		}
	}
	for _, p := range pods {
		if seen[p] == 0 {
			t.Errorf("no event of pod %s", p)
		}
	}
	if !whole && len(foreign) > 0 {
		t.Errorf("%d events of other containers or of the host, e.g. %q", len(foreign), foreign[:min(3, len(foreign))])
	}
	if !whole {
		// Events of no known thread (a switch to a thread that just exited)
		// must be of the pods' threads.
		var orphans []string
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) >= 2 && f[1] == "<NA>" && !tidOK[f[0]] {
				orphans = append(orphans, line)
			}
		}
		if len(orphans) > 0 {
			t.Errorf("%d events of threads not in the pods, e.g. %q", len(orphans), orphans[:min(3, len(orphans))])
		}
	} else {
		host := 0
		for _, line := range foreign {
			if f := strings.Fields(line); f[1] == "host" {
				host++
			}
		}
		t.Logf("--node: %d events in all, %d of other containers or of the host (%d of the host)", len(lines), len(foreign), host)
		if len(foreign) == 0 {
			t.Errorf("--node: no event of another container or of the host")
		}
	}
	if len(badMeta) > 0 {
		t.Errorf("%d events of the pods' containers without the right k8s.pod.name/k8s.ns.name, e.g. %q", len(badMeta), badMeta[:min(3, len(badMeta))])
	}
	// The process table at the start of the file: the pods' processes only
	// (the node's others, their command lines and environments, are not
	// the business of a capture of pods), all of them with --node.
	rd, err := scap.Open(r.file)
	if err != nil {
		t.Fatal(err)
	}
	var comms []string
	node := false
	for _, th := range rd.Metadata().Threads {
		comms = append(comms, th.Comm)
		if th.Comm == "kubelet" || th.Comm == "containerd" {
			node = true
		}
	}
	rd.Close()
	if node != whole {
		t.Errorf("the file's process table (%d threads) has the node's processes: %v, want %v; comms %q", len(comms), node, whole, comms[:min(20, len(comms))])
	}
	t.Logf("process table: %d threads", len(comms))
	// sysdig 0.29.3 reads it and sees the same exchange.
	theirs := run(t, "/usr/bin/sysdig", "-r", r.file, "-A", "proc.name=httpd and evt.dir=< and evt.type in (read, write, sendfile)")
	if !strings.Contains(theirs, "GET /ticket.txt HTTP/1.1") || !strings.Contains(theirs, "HTTP/1.1 200 OK") {
		t.Errorf("sysdig -r -A does not show the HTTP exchange")
	}
	n1 := strings.Count(run(t, syscope, "-r", r.file, "-p", "*%evt.num"), "\n")
	n2 := strings.Count(run(t, "/usr/bin/sysdig", "-r", r.file, "-p", "*%evt.num"), "\n")
	t.Logf("events read: syscope %d, sysdig %d", n1, n2)
	if n2 == 0 {
		t.Errorf("sysdig reads no events")
	}
}

// viewerKubeconfig is a kubeconfig for a service account that may only read
// the namespace's pods.
func viewerKubeconfig(t *testing.T) string {
	t.Helper()
	labenv.Kubectl(t, "-n", ns, "create", "serviceaccount", "viewer")
	labenv.Kubectl(t, "-n", ns, "create", "role", "pod-viewer", "--verb=get,list,watch", "--resource=pods")
	labenv.Kubectl(t, "-n", ns, "create", "rolebinding", "viewer", "--role=pod-viewer", "--serviceaccount="+ns+":viewer")
	token := strings.TrimSpace(labenv.Kubectl(t, "-n", ns, "create", "token", "viewer"))
	server := labenv.Kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	ca := labenv.Kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority}")
	f := filepath.Join(t.TempDir(), "viewer.kubeconfig")
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster: {server: %q, certificate-authority: %q}\n"+
		"users:\n- name: viewer\n  user: {token: %q}\ncontexts:\n- name: viewer\n  context: {cluster: lab, user: viewer, namespace: %s}\ncurrent-context: viewer\n",
		server, ca, token, ns)
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var se bytes.Buffer
	cmd.Stderr = &se
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, se.String())
	}
	return string(out)
}

// noCapturePods fails t when a capture pod is left in the cluster.
func noCapturePods(t *testing.T) {
	t.Helper()
	if left := kubectlOut(t, "get", "pods", "-A", "-l", managedBy, "-o", "name"); left != "" {
		t.Errorf("capture pods left behind: %s", left)
	}
}

func kubectlOut(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := labenv.Command("kubectl", args...).Output()
	return strings.TrimSpace(string(out))
}

func apply(t *testing.T, manifest string) {
	t.Helper()
	cmd := labenv.Command("kubectl", "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}

func deleteNamespace(t *testing.T) {
	t.Helper()
	if out, err := labenv.Command("kubectl", "delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=120s").CombinedOutput(); err != nil {
		t.Errorf("deleting namespace %s: %v\n%s", ns, err, out)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func goBuild(t *testing.T, root string, env []string, out string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// moduleRoot is the repository's root (three levels up from this file's package).
func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

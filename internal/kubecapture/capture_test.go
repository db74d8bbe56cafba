package kubecapture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// testCapture is a small capture: n close events, times start, start+step, ...
func testCapture(t *testing.T, host string, n int, start, step uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	m := &scap.Metadata{Machine: &scap.MachineInfo{NumCPUs: 1, Hostname: host},
		Threads: []scap.Thread{{Tid: 1, Pid: 1, Comm: "init", Exe: "/sbin/init"}, {Tid: 100, Pid: 100, Comm: host, Exe: "/bin/" + host}}}
	w, err := scap.NewWriter(&b, true, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		fd := binary.LittleEndian.AppendUint64(nil, uint64(i))
		e := scap.Event{Ts: start + uint64(i)*step, Tid: 100, Type: event.SyscallCloseE, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: fd}
		if err := w.WriteEvent(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runningPod(ns, name, node, uid string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(uid), Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", ContainerID: "containerd://" + strings.Repeat(uid[:1], 64),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}},
	}
}

// fakeCluster is a fake clientset whose created capture pods get a name and
// the status startStatus gives them (running by default), and where every
// access review is allowed.
type fakeCluster struct {
	*fake.Clientset
	mu      sync.Mutex
	created []*corev1.Pod
}

func newFakeCluster(startStatus func(*corev1.Pod), objs ...runtime.Object) *fakeCluster {
	fc := &fakeCluster{Clientset: fake.NewClientset(objs...)}
	n := 0
	fc.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		fc.mu.Lock()
		n++
		if p.Name == "" {
			p.Name = fmt.Sprintf("%sx%04d", p.GenerateName, n)
		}
		fc.created = append(fc.created, p.DeepCopy())
		fc.mu.Unlock()
		if startStatus != nil {
			startStatus(p)
		} else {
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
				Name: containerName, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
		}
		return false, nil, nil
	})
	fc.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		r.Status.Allowed = true
		return true, r, nil
	})
	return fc
}

// pods lists the pods left in ns.
func (fc *fakeCluster) pods(t *testing.T, ns string) []string {
	t.Helper()
	l, err := fc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range l.Items {
		names = append(names, p.Name)
	}
	return names
}

// execWriting is an exec that writes capture (the file) and syscope's
// progress lines, then exits as code says.
func execWriting(capture map[string][]byte, code int) ExecFunc {
	return func(ctx context.Context, ns, pod, container string, cmd []string, stdout, stderr io.Writer) error {
		fmt.Fprintln(stderr, "syscope: capturing to -; stop with Ctrl-C")
		fmt.Fprintln(stderr, `syscope-progress {"events":5,"drops":0}`)
		if code != 0 {
			fmt.Fprintln(stderr, "live capture is not available: the kernel has no BTF")
			return utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: code}
		}
		for prefix, b := range capture {
			if strings.HasPrefix(pod, prefix) {
				stdout.Write(b)
			}
		}
		fmt.Fprintln(stderr, "Driver Events:10\nDriver Drops:1")
		return nil
	}
}

func testRunner(t *testing.T, fc *fakeCluster, exec ExecFunc, args ...string) (*Runner, *bytes.Buffer) {
	t.Helper()
	o, err := Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	o.OutputDir = t.TempDir()
	o.StartTimeout = 5 * time.Second
	var errOut bytes.Buffer
	return &Runner{Opts: o, Client: fc, Exec: exec, Err: &syncWriter{w: &errOut},
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, DeleteWait: time.Second}, &errOut
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestRunOnePod(t *testing.T) {
	target := runningPod("tg", "ticket-balancer-1", "node-a", "1111-aaaa", nil)
	fc := newFakeCluster(nil, target)
	capture := testCapture(t, "node-a", 7, 1000, 10)
	var gotCmd []string
	exec := func(ctx context.Context, ns, pod, container string, cmd []string, stdout, stderr io.Writer) error {
		gotCmd = cmd
		return execWriting(map[string][]byte{"capture-": capture}, 0)(ctx, ns, pod, container, cmd, stdout, stderr)
	}
	r, errOut := testRunner(t, fc, exec, "ticket-balancer-1", "-ns", "tg", "-M", "10", "--snaplen", "256", "proc.name=nginx")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if len(res.Files) != 1 {
		t.Fatalf("files %+v", res.Files)
	}
	f := res.Files[0]
	if filepath.Base(f.Path) != "capture-ticket-balancer-1-20260102T030405Z.scap.gz" {
		t.Errorf("path %s", f.Path)
	}
	if f.Info.Events != 7 || f.Drops != 1 || f.Info.FirstTs != 1000 || f.Info.LastTs != 1060 {
		t.Errorf("info %+v drops %d", f.Info, f.Drops)
	}
	st, err := os.Stat(f.Path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v", st.Mode(), err)
	}
	if got := files(t, r.Opts.OutputDir); len(got) != 1 {
		t.Errorf("output dir holds %q", got)
	}
	if left := fc.pods(t, "tg"); len(left) != 1 || left[0] != "ticket-balancer-1" {
		t.Errorf("pods left: %q", left)
	}
	want := "/syscope -w - -z -M 10 -v --progress-json -s 256 --trim-proclist --pod-uid 1111-aaaa -- proc.name=nginx"
	if strings.Join(gotCmd, " ") != want {
		t.Errorf("command\n %s\nwant\n %s", strings.Join(gotCmd, " "), want)
	}
	p := fc.created[0]
	if p.Namespace != "tg" || p.Spec.NodeName != "node-a" || !p.Spec.HostPID || !*p.Spec.Containers[0].SecurityContext.Privileged ||
		p.Labels[LabelManagedBy] != ManagedBy || p.Labels[LabelTargetPod] != "ticket-balancer-1" || p.Spec.ActiveDeadlineSeconds == nil ||
		p.Spec.RestartPolicy != corev1.RestartPolicyNever || p.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent ||
		len(p.Spec.Tolerations) != 1 || p.Spec.Tolerations[0].Operator != corev1.TolerationOpExists ||
		p.Spec.Containers[0].Resources.Limits.Memory().IsZero() {
		t.Errorf("capture pod spec: %+v", p)
	}
}

func TestRunSelectorTwoNodesMerge(t *testing.T) {
	l := map[string]string{"app": "web"}
	fc := newFakeCluster(nil,
		runningPod("tg", "web-1", "node-a", "1111-aaaa", l),
		runningPod("tg", "web-2", "node-b", "2222-bbbb", l),
		runningPod("tg", "web-3", "node-b", "3333-cccc", l),
		runningPod("tg", "other", "node-a", "4444-dddd", map[string]string{"app": "other"}))
	capA := testCapture(t, "a", 5, 1000, 20) // 1000 .. 1080
	capB := testCapture(t, "b", 5, 1010, 20) // 1010 .. 1090
	var mu sync.Mutex
	cmds := map[string]string{}
	exec := func(ctx context.Context, ns, pod, container string, cmd []string, stdout, stderr io.Writer) error {
		p, _ := fc.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		mu.Lock()
		cmds[p.Spec.NodeName] = strings.Join(cmd, " ")
		mu.Unlock()
		c := capA
		if p.Spec.NodeName == "node-b" {
			c = capB
		}
		return execWriting(map[string][]byte{"": c}, 0)(ctx, ns, pod, container, cmd, stdout, stderr)
	}
	r, errOut := testRunner(t, fc, exec, "-l", "app=web", "-n", "tg", "--merge", "-M", "5")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if len(res.Files) != 1 || res.Files[0].Info.Events != 10 || len(res.Files[0].Nodes) != 2 {
		t.Fatalf("files %+v", res.Files)
	}
	if !strings.Contains(cmds["node-b"], "--pod-uid 2222-bbbb --pod-uid 3333-cccc") || !strings.Contains(cmds["node-a"], "--pod-uid 1111-aaaa") || strings.Contains(cmds["node-a"], "4444") {
		t.Errorf("commands %q", cmds)
	}
	// Time order across the nodes.
	rd, err := scap.Open(res.Files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var ev scap.Event
	var last uint64
	for rd.Next(&ev) == nil {
		if ev.Ts < last {
			t.Errorf("event at %d after %d", ev.Ts, last)
		}
		last = ev.Ts
	}
	if got := files(t, r.Opts.OutputDir); len(got) != 1 || !strings.HasPrefix(got[0], "capture-tg-app-web-merged-") {
		t.Errorf("output dir holds %q", got)
	}
	if left := fc.pods(t, "tg"); len(left) != 4 {
		t.Errorf("pods left: %q", left)
	}
	// Without --merge: one file per node.
	r, errOut = testRunner(t, fc, exec, "-l", "app=web", "-n", "tg", "-M", "5")
	res, err = r.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if got := files(t, r.Opts.OutputDir); len(res.Files) != 2 || len(got) != 2 || !strings.Contains(got[0], "node-a") || !strings.Contains(got[1], "node-b") {
		t.Errorf("files %q", got)
	}
}

func TestRunFailures(t *testing.T) {
	target := runningPod("tg", "web-1", "node-a", "1111-aaaa", nil)
	tests := []struct {
		name   string
		start  func(*corev1.Pod)
		exec   ExecFunc
		args   []string
		want   string
		nopods bool // no capture pod was created
	}{
		{name: "unknown pod", args: []string{"web-2", "-n", "tg"}, want: "pod web-2 not found in namespace tg; nearest names: web-1", nopods: true},
		{name: "unknown namespace", args: []string{"web-1", "-n", "tgx"}, want: "namespace tgx not found; nearest namespaces: tg", nopods: true},
		{name: "image not pullable", args: []string{"web-1", "-n", "tg"}, start: func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: containerName,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "pull access denied"}}}}}
		}, want: "make image"},
		{name: "evicted", args: []string{"web-1", "-n", "tg"}, start: func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "The node was low on resource: memory."}
		}, want: "was evicted"},
		{name: "no eBPF on the node", args: []string{"web-1", "-n", "tg"}, exec: execWriting(nil, 1), want: "cannot run syscope's eBPF probe"},
		{name: "a broken file", args: []string{"web-1", "-n", "tg"}, exec: func(ctx context.Context, ns, pod, c string, cmd []string, stdout, stderr io.Writer) error {
			stdout.Write([]byte("not a capture"))
			return nil
		}, want: "does not read as a capture"},
		{name: "never starts", args: []string{"web-1", "-n", "tg", "--start-timeout", "1s"}, start: func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending}
		}, want: "did not start in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tg"}}
			fc := newFakeCluster(tt.start, target.DeepCopy(), ns)
			exec := tt.exec
			if exec == nil {
				exec = execWriting(map[string][]byte{"": testCapture(t, "a", 3, 1, 1)}, 0)
			}
			r, errOut := testRunner(t, fc, exec, tt.args...)
			if tt.name != "never starts" {
				r.Opts.StartTimeout = 5 * time.Second
			} else {
				r.Opts.StartTimeout = time.Second
			}
			_, err := r.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q\n%s", err, tt.want, errOut)
			}
			if got := files(t, r.Opts.OutputDir); len(got) != 0 {
				t.Errorf("files left: %q", got)
			}
			if left := fc.pods(t, "tg"); len(left) != 1 {
				t.Errorf("pods left: %q", left)
			}
			if tt.nopods != (len(fc.created) == 0) {
				t.Errorf("%d capture pods created", len(fc.created))
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	fc := newFakeCluster(nil, runningPod("tg", "web-1", "node-a", "1111-aaaa", nil))
	ctx, cancel := context.WithCancel(context.Background())
	exec := func(ectx context.Context, ns, pod, c string, cmd []string, stdout, stderr io.Writer) error {
		fmt.Fprintln(stderr, "syscope: capturing to -; stop with Ctrl-C")
		stdout.Write(testCapture(t, "a", 3, 1, 1)[:40])
		cancel() // Ctrl+C
		<-ectx.Done()
		return ectx.Err()
	}
	r, errOut := testRunner(t, fc, exec, "web-1", "-n", "tg")
	_, err := r.Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v\n%s", err, errOut)
	}
	if got := files(t, r.Opts.OutputDir); len(got) != 0 {
		t.Errorf("files left: %q", got)
	}
	if left := fc.pods(t, "tg"); len(left) != 1 {
		t.Errorf("pods left: %q", left)
	}
}

func TestRunLeftovers(t *testing.T) {
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "capture-old-x", Namespace: "tg", Labels: map[string]string{LabelManagedBy: ManagedBy}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "DeadlineExceeded"}}
	running := old.DeepCopy()
	running.Name, running.Status.Phase = "capture-running-x", corev1.PodRunning
	fc := newFakeCluster(nil, runningPod("tg", "web-1", "node-a", "1111-aaaa", nil), old, running)
	r, errOut := testRunner(t, fc, execWriting(map[string][]byte{"": testCapture(t, "a", 3, 1, 1)}, 0), "web-1", "-n", "tg")
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	left := strings.Join(fc.pods(t, "tg"), " ")
	if left != "capture-running-x web-1" {
		t.Errorf("pods left: %s", left)
	}
	if !strings.Contains(errOut.String(), "deleted tg/capture-old-x") {
		t.Errorf("no note about the leftover:\n%s", errOut)
	}
}

func TestRunNotRunning(t *testing.T) {
	p := runningPod("tg", "web-1", "node-a", "1111-aaaa", nil)
	p.Status.Phase = corev1.PodPending
	p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	fc := newFakeCluster(nil, p)
	r, _ := testRunner(t, fc, execWriting(nil, 0), "web-1", "-n", "tg")
	_, err := r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not running yet (Pending, app: ContainerCreating)") {
		t.Fatalf("error %v", err)
	}
}

func TestRunWrongNamespaceHint(t *testing.T) {
	fc := newFakeCluster(nil, runningPod("prod", "web-1", "node-a", "1111-aaaa", nil),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	r, _ := testRunner(t, fc, execWriting(nil, 0), "web-1")
	r.Opts.Namespace = "default"
	_, err := r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "it exists in namespace prod: add -n prod") {
		t.Fatalf("error %v", err)
	}
}

func TestRunContainer(t *testing.T) {
	fc := newFakeCluster(nil, runningPod("tg", "web-1", "node-a", "1111-aaaa", nil))
	var got string
	exec := func(ctx context.Context, ns, pod, c string, cmd []string, stdout, stderr io.Writer) error {
		got = strings.Join(cmd, " ")
		return execWriting(map[string][]byte{"": testCapture(t, "a", 3, 1, 1)}, 0)(ctx, ns, pod, c, cmd, stdout, stderr)
	}
	r, _ := testRunner(t, fc, exec, "web-1", "-n", "tg", "-c", "app")
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "--container "+strings.Repeat("1", 64)) || strings.Contains(got, "--pod-uid") {
		t.Errorf("command %s", got)
	}
	r, _ = testRunner(t, fc, exec, "web-1", "-n", "tg", "-c", "nope")
	if _, err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "has no container nope; its containers: app") {
		t.Errorf("error %v", err)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"ticket-balancer-5967c66fb4-qnzj6", "ticket-client-68df494585-ntqls", "ticket-server-56c75bf88b-nqpcs", "zzz"}
	got := nearest("ticket-balancer", names, 2)
	if got[0] != "ticket-balancer-5967c66fb4-qnzj6" {
		t.Errorf("nearest: %q", got)
	}
	got = nearest("ticket-balancer-5967c66fb4-qnzj7", names, 1)
	if got[0] != "ticket-balancer-5967c66fb4-qnzj6" {
		t.Errorf("nearest: %q", got)
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance %d", d)
	}
}

func TestStderrParser(t *testing.T) {
	st := &status{}
	p := &stderrParser{st: st}
	io.WriteString(p, "syscope: capturing to -; stop with Ctrl-C\nsyscope-progress {\"events\":12,\"dr")
	io.WriteString(p, "ops\":3}\nsyscope: warning: 3 events dropped (...)\nsomething odd\nDriver Events:20\nDriver Drops:4\nsyscope-progress {\"events\":1,\"drops\":0}\nlast")
	p.flush()
	d := st.snapshot()
	if d.phase != phaseCapturing || d.started.IsZero() || d.events != 20 || d.drops != 4 || strings.Join(d.messages, "|") != "something odd|last" {
		t.Errorf("got %+v", d)
	}
}

func TestLabelsAndNames(t *testing.T) {
	if got := labelValue("ns/pod_x" + strings.Repeat("y", 80)); len(got) > 63 || strings.Contains(got, "/") {
		t.Errorf("labelValue %q", got)
	}
	if got := podNamePrefix(strings.Repeat("a", 80)); len(got)+5 > 63 {
		t.Errorf("podNamePrefix %q too long", got)
	}
	if got := fileWord("tg-app=web,tier in (a b)"); got != "tg-app-web-tier-in-a-b" {
		t.Errorf("fileWord %q", got)
	}
}

func TestPlace(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf("t%d", i))
		os.WriteFile(tmp, []byte{byte(i)}, 0o600)
		got, err := place(tmp, filepath.Join(dir, "c"), ".scap.gz")
		want := []string{"c.scap.gz", "c-2.scap.gz"}[i]
		if err != nil || filepath.Base(got) != want {
			t.Errorf("place: %s %v, want %s", got, err, want)
		}
	}
	if got := files(t, dir); len(got) != 2 {
		t.Errorf("dir holds %q", got)
	}
}

func TestRunForbidden(t *testing.T) {
	fc := newFakeCluster(nil, runningPod("tg", "web-1", "node-a", "1111-aaaa", nil))
	fc.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		v := r.Spec.ResourceAttributes.Verb
		r.Status.Allowed = v == "get" || v == "list" || v == "watch"
		return true, r, nil
	})
	r, _ := testRunner(t, fc, execWriting(nil, 0), "web-1", "-n", "tg")
	_, err := r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "you may not create pods, delete pods, create pods/exec in namespace tg") ||
		!strings.Contains(err.Error(), "kubectl create role kubectl-capture -n tg") {
		t.Fatalf("error %v", err)
	}
	if len(fc.created) != 0 {
		t.Errorf("a capture pod was created")
	}
}

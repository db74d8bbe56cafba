package k8s

import (
	"context"
	"encoding/json"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/syscope/syscope/state"
)

func testMeta(ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: labels,
		CreationTimestamp: metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)),
		Annotations:       map[string]string{"big": strings.Repeat("x", 100)},
		ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}
}

func testPod(ns, name string, labels map[string]string, ids ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: testMeta(ns, name, labels)}
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodRunning
	for i, id := range ids {
		c := corev1.Container{Name: "c" + string(rune('0'+i)), Image: "busybox", Env: []corev1.EnvVar{{Name: "SECRET", Value: "s"}}}
		p.Spec.Containers = append(p.Spec.Containers, c)
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, ContainerID: id})
	}
	return p
}

// decoded is a K8S_E payload, decoded.
type decoded struct {
	Type, Kind, APIVersion string
	Items                  []map[string]any
}

func decode(t *testing.T, p []byte) decoded {
	t.Helper()
	if len(p) < 2 || p[len(p)-1] != 0 || p[len(p)-2] != '\n' {
		t.Fatalf("payload does not end with a newline and a NUL: %q", p)
	}
	var d decoded
	if err := json.Unmarshal(p[:len(p)-1], &d); err != nil {
		t.Fatalf("%v: %s", err, p)
	}
	return d
}

// next returns the next payload, failing after a while.
func next(t *testing.T, w *Watcher) []byte {
	t.Helper()
	select {
	case p, ok := <-w.Events():
		if !ok {
			t.Fatalf("events closed: %v", w.Err())
		}
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no payload")
	}
	return nil
}

// noLeaks checks that the goroutines started since before are gone.
func noLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left (%d before):\n%s", n, before, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type warnings struct {
	mu sync.Mutex
	l  []string
}

func (w *warnings) add(s string) {
	w.mu.Lock()
	w.l = append(w.l, s)
	w.mu.Unlock()
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.l...)
}

func TestWatcher(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakeAPI(t)
	f.nodes["node-1"] = true
	f.add("namespaces", &corev1.Namespace{ObjectMeta: testMeta("", "shop", map[string]string{"team": "blue"})})
	f.add("namespaces", &corev1.Namespace{ObjectMeta: testMeta("", "default", nil)})
	f.add("pods", testPod("shop", "web-1", map[string]string{"app": "web"}, "containerd://0123456789abcdef0123"))
	f.add("services", &corev1.Service{ObjectMeta: testMeta("shop", "svc", nil), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}})
	rs := &appsv1.ReplicaSet{ObjectMeta: testMeta("shop", "web-abc", map[string]string{"app": "web"})}
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	f.add("replicasets", rs)
	f.forbidden["replicationcontrollers"] = true

	var warn warnings
	w, err := New(context.Background(), WithRESTConfig(f.config()), WithNode("node-1"), WithWarn(warn.add))
	if err != nil {
		t.Fatal(err)
	}
	// The dump: namespaces (sorted), pods, services, replica sets,
	// deployments (none: an empty list); no replication controllers.
	var got []string
	st := state.NewK8s()
	for i := 0; i < 5; i++ {
		p := next(t, w)
		st.Apply(p)
		d := decode(t, p)
		var n []string
		for _, it := range d.Items {
			n = append(n, it["name"].(string))
		}
		got = append(got, d.Type+" "+d.APIVersion+" "+d.Kind+" "+strings.Join(n, ","))
	}
	want := []string{"ADDED v1 Namespace default,shop", "ADDED v1 Pod web-1", "ADDED v1 Service svc",
		"ADDED apps/v1 ReplicaSet web-abc", "ADDED apps/v1 Deployment "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dump:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	<-w.Synced()
	if w.Node() != "node-1" {
		t.Errorf("node %q", w.Node())
	}
	if l := warn.list(); len(l) != 1 || !strings.Contains(l[0], "ReplicationController") {
		t.Errorf("warnings %q", l)
	}
	if fs := f.fieldSelectors("pods"); len(fs) == 0 || fs[0] != podPhases+",spec.nodeName=node-1" {
		t.Errorf("pod field selectors %q", fs)
	}
	// The state sysdig would build from it.
	pod := st.PodOfContainer("0123456789ab")
	if pod == nil || pod.Name != "web-1" || len(st.ServicesOf(pod)) != 1 || st.ReplicaSetOf(pod) == nil || st.Namespace("shop") == nil {
		t.Fatalf("state from the dump: pod %+v", pod)
	}

	// Changes.
	p2 := testPod("shop", "web-2", map[string]string{"app": "web"}, "containerd://abcdef0123456789")
	f.add("pods", p2)
	d := decode(t, next(t, w))
	if d.Type != Added || d.Kind != "Pod" || d.Items[0]["name"] != "web-2" {
		t.Errorf("added: %+v", d)
	}
	// A change no item shows is not sent; one that shows is.
	p2 = p2.DeepCopy()
	p2.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	f.event("pods", "MODIFIED", p2)
	p2 = p2.DeepCopy()
	p2.Labels["v"] = "2"
	f.event("pods", "MODIFIED", p2)
	d = decode(t, next(t, w))
	if d.Type != Modified || d.Items[0]["labels"].(map[string]any)["v"] != "2" {
		t.Errorf("modified: %+v", d)
	}
	f.event("pods", "DELETED", p2)
	d = decode(t, next(t, w))
	if d.Type != Deleted || d.Items[0]["uid"] != "uid-web-2" {
		t.Errorf("deleted: %+v", d)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok {
		t.Error("events not closed")
	}
	f.close()
	noLeaks(t, before)
}

func TestWatcherUnreachable(t *testing.T) {
	before := runtime.NumGoroutine()
	// A port nothing listens on, and a server that never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	for _, host := range []string{"http://127.0.0.1:1", "http://" + ln.Addr().String()} {
		var warn warnings
		start := time.Now()
		w, err := New(context.Background(), WithRESTConfig(&rest.Config{Host: host}), WithSyncTimeout(time.Second), WithWarn(warn.add))
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Errorf("New blocked for %v", time.Since(start))
		}
		select {
		case _, ok := <-w.Events():
			if ok {
				t.Error("a payload from nowhere")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the watcher did not give up", host)
		}
		if w.Err() == nil || len(warn.list()) != 1 {
			t.Errorf("%s: err %v, warnings %q", host, w.Err(), warn.list())
		}
		w.Close()
	}
	ln.Close()
	<-accepted
	noLeaks(t, before)
}

func TestWatcherNode(t *testing.T) {
	f := newFakeAPI(t)
	f.nodes["node-1"] = true
	// A node named explicitly must exist.
	var warn warnings
	w, err := New(context.Background(), WithRESTConfig(f.config()), WithNode("nope"), WithWarn(warn.add))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok || w.Err() == nil || !strings.Contains(w.Err().Error(), "nope") {
		t.Errorf("unknown node: err %v", w.Err())
	}
	w.Close()
	// One from $NODE_NAME that does not exist: all pods.
	t.Setenv("NODE_NAME", "elsewhere")
	w, err = New(context.Background(), WithRESTConfig(f.config()), WithWarn(warn.add))
	if err != nil {
		t.Fatal(err)
	}
	next(t, w)
	<-w.Synced()
	if w.Node() != "" || f.fieldSelectors("pods")[0] != podPhases {
		t.Errorf("node %q, selectors %q", w.Node(), f.fieldSelectors("pods"))
	}
	w.Close()
	// One from $NODE_NAME that exists.
	t.Setenv("NODE_NAME", "node-1")
	w, err = New(context.Background(), WithRESTConfig(f.config()), WithWarn(warn.add))
	if err != nil {
		t.Fatal(err)
	}
	next(t, w)
	<-w.Synced()
	if w.Node() != "node-1" {
		t.Errorf("node %q", w.Node())
	}
	w.Close()
}

// TestWatcherCancel checks that cancelling the context stops the watcher.
func TestWatcherCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakeAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := New(ctx, WithRESTConfig(f.config()), WithNode(""), WithWarn(func(string) {}))
	if err != nil {
		t.Fatal(err)
	}
	<-w.Synced()
	cancel()
	for range w.Events() {
	}
	w.Close()
	f.close()
	noLeaks(t, before)
}

package compat

// Kubernetes metadata in captures: K8S_E events, as sysdig writes them when
// capturing live with -k, made here by the k8s package from API objects,
// with container events and threads in the pods' containers. sysdig and
// syscope must print the same k8s.* fields and select the same events.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/k8s"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
	"github.com/syscope/syscope/test/lab/labenv"
)

// k8sFields is every k8s.* field, with a label argument where one is needed.
const k8sFields = "*%evt.num %evt.type %proc.name %container.id" +
	" | %k8s.pod.name %k8s.pod.id %k8s.pod.labels %k8s.pod.label.app" +
	" | %k8s.ns.name %k8s.ns.id %k8s.ns.labels %k8s.ns.label.team" +
	" | %k8s.svc.name %k8s.svc.id %k8s.svc.labels %k8s.svc.label.svc %k8s.svc.label.zone" +
	" | %k8s.rs.name %k8s.rs.id %k8s.rs.labels %k8s.rs.label.app" +
	" | %k8s.deployment.name %k8s.deployment.id %k8s.deployment.labels %k8s.deployment.label.app" +
	" | %k8s.rc.name %k8s.rc.id %k8s.rc.labels %k8s.rc.label.app"

// hexID makes a 64-character container id from a seed (its first 12
// characters differ for each seed).
func hexID(seed byte) string {
	return fmt.Sprintf("%02x", seed) + strings.Repeat("0123456789abcdef", 4)[2:]
}

// k8sCapture builds a capture: its threads, then events added with the
// methods, in order, 1 ms apart.
type k8sCapture struct {
	t  *testing.T
	w  *scap.Writer
	ts uint64
}

func newK8sCapture(t *testing.T, path string, threads []scap.Thread) *k8sCapture {
	t.Helper()
	meta := &scap.Metadata{
		Machine: &scap.MachineInfo{NumCPUs: 2, Hostname: "node-1"},
		Threads: threads,
	}
	w, err := scap.Create(path, false, meta)
	if err != nil {
		t.Fatal(err)
	}
	return &k8sCapture{t: t, w: w, ts: 1_700_000_000_000_000_000}
}

func (c *k8sCapture) event(tid int64, typ event.Type, params ...[]byte) {
	c.t.Helper()
	ev := &scap.Event{Ts: c.ts, Tid: tid, Type: typ, NParams: len(params)}
	for _, p := range params {
		ev.Offs = append(ev.Offs, uint32(len(ev.Data)))
		ev.Lens = append(ev.Lens, uint32(len(p)))
		ev.Data = append(ev.Data, p...)
	}
	if err := c.w.WriteEvent(ev); err != nil {
		c.t.Fatal(err)
	}
	c.ts += 1_000_000
}

// k8s writes K8S_E events of type typ on objs (all of one kind).
func (c *k8sCapture) k8s(typ string, objs ...any) {
	c.t.Helper()
	kind, _ := k8s.KindOf(objs[0])
	var items []map[string]any
	for _, o := range objs {
		it, err := k8s.Item(o)
		if err != nil {
			c.t.Fatal(err)
		}
		items = append(items, it)
	}
	docs, _ := k8s.Documents(typ, kind, items)
	for _, d := range docs {
		c.event(0, event.K8sE, d)
	}
}

// raw writes a K8S_E event with a document as is.
func (c *k8sCapture) raw(doc string) { c.event(0, event.K8sE, append([]byte(doc+"\n"), 0)) }

// container writes a container JSON event.
func (c *k8sCapture) container(id string, typ int, name string, labels map[string]string) {
	c.t.Helper()
	x := map[string]any{"id": id[:12], "type": typ, "name": name, "image": "img:" + name,
		"imageid": "", "imagerepo": "img", "imagetag": name, "imagedigest": "", "privileged": false, "Mounts": []any{}}
	if labels != nil {
		x["labels"] = labels
	}
	b, err := json.Marshal(map[string]any{"container": x})
	if err != nil {
		c.t.Fatal(err)
	}
	c.event(-1, event.ContainerJsonE, append(b, 0))
}

// closeFD writes a close enter and exit from tid.
func (c *k8sCapture) closeFD(tid int64, fd int64) {
	c.event(tid, event.SyscallCloseE, binary.LittleEndian.AppendUint64(nil, uint64(fd)))
	c.event(tid, event.SyscallCloseX, binary.LittleEndian.AppendUint64(nil, 0))
}

func (c *k8sCapture) close() {
	c.t.Helper()
	if err := c.w.Close(); err != nil {
		c.t.Fatal(err)
	}
}

func k8sThread(tid int64, comm, containerID string) scap.Thread {
	th := scap.Thread{Tid: tid, Pid: tid, Ptid: 1, Comm: comm, Exe: comm, ExePath: "/usr/bin/" + comm,
		Args: []string{"-x"}, Cwd: "/", FDLimit: 1024, Vtid: tid, Vpid: tid}
	if containerID != "" {
		th.Cgroups = []string{"cpuset=/kubepods/besteffort/pod0/" + containerID, "cpu=/kubepods/besteffort/pod0/" + containerID}
		th.Vtid, th.Vpid = 1, 1
	}
	return th
}

func meta(ns, name, uid string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: labels,
		CreationTimestamp: metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))}
}

func pod(ns, name, uid string, labels map[string]string, ids ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta(ns, name, uid, labels)}
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = "10.0.0.1"
	p.Status.PodIP = "10.1.0.7"
	for i, id := range ids {
		n := name + "-c" + string(rune('0'+i))
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "img:" + n,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: n, ContainerID: id, Ready: true, RestartCount: 1})
	}
	return p
}

func service(ns, name, uid string, labels, selector map[string]string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: meta(ns, name, uid, labels)}
	s.Spec.ClusterIP = "10.96.0.10"
	s.Spec.Selector = selector
	s.Spec.Ports = []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("http")}}
	return s
}

func replicaSet(ns, name, uid string, labels, selector map[string]string) *appsv1.ReplicaSet {
	r := int32(2)
	rs := &appsv1.ReplicaSet{ObjectMeta: meta(ns, name, uid, labels)}
	rs.Spec.Replicas = &r
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	rs.Status.Replicas = 2
	return rs
}

func deployment(ns, name, uid string, labels, selector map[string]string) *appsv1.Deployment {
	r := int32(2)
	d := &appsv1.Deployment{ObjectMeta: meta(ns, name, uid, labels)}
	d.Spec.Replicas = &r
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
	d.Status.Replicas = 2
	return d
}

func rc(ns, name, uid string, labels, selector map[string]string) *corev1.ReplicationController {
	r := int32(1)
	x := &corev1.ReplicationController{ObjectMeta: meta(ns, name, uid, labels)}
	x.Spec.Replicas = &r
	x.Spec.Selector = selector
	x.Status.Replicas = 1
	return x
}

type labels = map[string]string

// writeK8sCapture writes the main scenario: a namespace with labels, pods
// with labels and containers, services, a replica set, deployments and a
// replication controller selecting some of them, threads in the pods'
// containers (with runtime labels, without, and without container event),
// then changes (a pod added after the services, a service modified, a pod
// and a deployment deleted...) with events after each.
func writeK8sCapture(t *testing.T, path string) {
	web1, db1, other, web2, plain, sb := hexID(1), hexID(2), hexID(3), hexID(6), hexID(5), hexID(9)
	c := newK8sCapture(t, path, []scap.Thread{
		{Tid: 1, Pid: 1, Comm: "init", Exe: "/sbin/init", ExePath: "/sbin/init", Cwd: "/", FDLimit: 1024, Vtid: 1, Vpid: 1},
		k8sThread(100, "nginx", web1),
		k8sThread(200, "redis", db1),
		k8sThread(300, "worker", other),
		k8sThread(500, "plain", plain),
		k8sThread(600, "nginx2", web2),
	})
	// The sandbox of web-1 has the pod's labels; web-1's container has the
	// runtime's labels; db-1's has none; the others have no container event.
	c.container(sb, 6, "k8s_POD_web-1", labels{"app": "web", "tier": "front", "io.kubernetes.pod.name": "web-1",
		"io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": "uid-web-1", "annotation.kubernetes.io/config.seen": "x"})
	c.container(web1, 6, "nginx", labels{"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
		"io.kubernetes.pod.uid": "uid-web-1", "io.kubernetes.sandbox.id": sb, "io.kubernetes.container.name": "nginx"})
	c.container(db1, 6, "redis", nil)
	c.container(plain, 0, "plain", labels{"com.example": "yes"})
	c.closeFD(100, 3) // before any K8S_E event: labels only

	c.k8s(k8s.Added,
		&corev1.Namespace{ObjectMeta: meta("", "default", "uid-ns-default", nil)},
		&corev1.Namespace{ObjectMeta: meta("", "shop", "uid-ns-shop", labels{"team": "blue", "env": "prod"})})
	c.k8s(k8s.Added,
		pod("shop", "web-1", "uid-web-1", labels{"app": "web", "tier": "front", "pod-template-hash": "abc"}, "containerd://"+web1),
		pod("shop", "db-1", "uid-db-1", labels{"app": "db"}, "docker://"+db1),
		pod("default", "other", "uid-other", labels{"app": "web", "role": ""}, "cri-o://"+other))
	c.k8s(k8s.Added, rc("shop", "rc-db", "uid-rc-db", labels{"app": "db", "ver": "1"}, labels{"app": "db"}))
	c.k8s(k8s.Added,
		service("shop", "svc-web", "uid-svc-web", labels{"svc": "yes"}, labels{"app": "web"}),
		service("shop", "svc-all", "uid-svc-all", labels{"svc": "all", "zone": "eu"}, labels{"tier": "front"}),
		service("default", "svc-default", "uid-svc-default", nil, labels{"app": "web"}),
		service("shop", "svc-none", "uid-svc-none", labels{"svc": "none"}, nil),
		service("default", "svc-d2", "uid-svc-d2", labels{"zone": "us"}, labels{"role": ""}),
		service("default", "svc-d3", "uid-svc-d3", labels{"svc": "", "zone": "ap"}, labels{"app": "web", "role": ""}),
		service("default", "svc-d4", "uid-svc-d4", labels{"svc": "d4"}, labels{"app": "web"}))
	c.k8s(k8s.Added,
		replicaSet("shop", "web-abc", "uid-rs-web-abc", labels{"app": "web", "pod-template-hash": "abc"}, labels{"app": "web", "pod-template-hash": "abc"}),
		replicaSet("shop", "web-any", "uid-rs-web-any", labels{"app": "web"}, labels{"app": "web"}))
	c.k8s(k8s.Added,
		deployment("shop", "web", "uid-dep-web", labels{"app": "web"}, labels{"app": "web"}),
		deployment("shop", "front", "uid-dep-front", labels{"app": "front"}, labels{"tier": "front"}))
	for _, tid := range []int64{1, 100, 200, 300, 500, 600} {
		c.closeFD(tid, 4)
	}

	// A pod added after the services: only the pod table is rebuilt.
	c.k8s(k8s.Added, pod("shop", "web-2", "uid-web-2", labels{"app": "web", "tier": "front"}, "containerd://"+web2))
	c.closeFD(600, 5)
	// A service changes: the services are matched again.
	c.k8s(k8s.Modified, service("shop", "svc-web", "uid-svc-web", labels{"svc": "changed"}, labels{"app": "web"}))
	c.closeFD(600, 6)
	c.closeFD(100, 6)
	// Labels that go away are kept; MODIFIED of an unknown object does nothing.
	c.k8s(k8s.Modified, &corev1.Namespace{ObjectMeta: meta("", "shop", "uid-ns-shop", nil)})
	c.k8s(k8s.Modified, &corev1.Namespace{ObjectMeta: meta("", "ghost", "uid-ns-ghost", labels{"team": "red"})})
	c.closeFD(200, 7)
	// Deletions.
	c.k8s(k8s.Deleted, pod("shop", "db-1", "uid-db-1", nil))
	c.k8s(k8s.Deleted, &appsv1.Deployment{ObjectMeta: meta("shop", "web", "uid-dep-web", nil)})
	c.k8s(k8s.Deleted, &appsv1.Deployment{ObjectMeta: meta("shop", "nope", "uid-nope", nil)})
	c.closeFD(200, 8)
	c.closeFD(100, 8)
	c.closeFD(600, 8)
	// The replica set is deleted: the other one takes the pods.
	c.k8s(k8s.Deleted, &appsv1.ReplicaSet{ObjectMeta: meta("shop", "web-abc", "uid-rs-web-abc", nil)})
	// Odd documents: an unknown kind, an unknown type, an item without uid.
	c.raw(`{"apiVersion":"v1","items":[{"name":"x","uid":"u"}],"kind":"Secret","type":"ADDED"}`)
	c.raw(`{"apiVersion":"v1","items":[{"name":"x","uid":"u2","namespace":"shop"}],"kind":"Pod","type":"BOOKMARK"}`)
	c.raw(`{"apiVersion":"v1","items":[{"name":"ns-no-uid","labels":{"team":"green","n":3}}],"kind":"Namespace","type":"ADDED"}`)
	c.closeFD(100, 9)
	c.closeFD(300, 9)
	c.close()
}

// writeK8sManyCapture writes pods selected by several services and
// deployments, enough of them that sysdig's multimaps outgrow their small
// size (the order of a pod's services changes then).
func writeK8sManyCapture(t *testing.T, path string) {
	threads := []scap.Thread{}
	var pods []any
	for i := 1; i <= 12; i++ {
		id := hexID(byte(16 + i))
		name := "p" + string(rune('a'+i-1))
		threads = append(threads, k8sThread(int64(100*i), name, id))
		pods = append(pods, pod("big", name, "uid-"+name, labels{"app": "x", "n": name}, "containerd://"+id))
	}
	c := newK8sCapture(t, path, threads)
	c.k8s(k8s.Added, &corev1.Namespace{ObjectMeta: meta("", "big", "uid-big", labels{"size": "big"})})
	c.k8s(k8s.Added, pods...)
	c.k8s(k8s.Added,
		service("big", "s1", "uid-s1", labels{"svc": "1"}, labels{"app": "x"}),
		service("big", "s2", "uid-s2", labels{"svc": "2"}, labels{"app": "x"}),
		service("big", "s3", "uid-s3", labels{"svc": "3"}, labels{"app": "x"}),
		service("big", "sa", "uid-sa", labels{"svc": "a"}, labels{"n": "pa"}))
	c.k8s(k8s.Added,
		deployment("big", "d1", "uid-d1", labels{"d": "1"}, labels{"app": "x"}),
		deployment("big", "d2", "uid-d2", labels{"d": "2"}, labels{"app": "x"}),
		deployment("big", "d3", "uid-d3", labels{"d": "3"}, labels{"n": "pl"}))
	c.k8s(k8s.Added,
		replicaSet("big", "r1", "uid-r1", nil, labels{"n": "pc"}),
		replicaSet("big", "r2", "uid-r2", nil, labels{"app": "x"}))
	for i := 1; i <= 12; i++ {
		c.closeFD(int64(100*i), 3)
	}
	// A deployment goes: the others are inserted again, in fewer entries.
	c.k8s(k8s.Deleted, &appsv1.Deployment{ObjectMeta: meta("big", "d1", "uid-d1", nil)})
	for i := 1; i <= 12; i++ {
		c.closeFD(int64(100*i), 4)
	}
	c.close()
}

// writeK8sV1Capture writes K8S_E events of capture version 1 (whole watch
// events), which sysdig 0.29.3 reads without finding the containers of pods.
func writeK8sV1Capture(t *testing.T, path string) {
	id := hexID(7)
	c := newK8sCapture(t, path, []scap.Thread{k8sThread(100, "app", id)})
	c.raw(`{"apiVersion":"v1","kind":"Namespace","object":{"metadata":{"name":"old","uid":"uid-old","labels":{"a":"b"}},"spec":{},"status":{}},"type":"ADDED"}`)
	c.raw(`{"apiVersion":"v1","kind":"Pod","object":{"metadata":{"name":"oldpod","namespace":"old","uid":"uid-oldpod","labels":{"app":"old"}},"spec":{"nodeName":"n"},"status":{"containerStatuses":[{"containerID":"docker://` + id + `","restartCount":0}]}},"type":"ADDED"}`)
	c.raw(`{"apiVersion":"v1","kind":"Service","object":{"metadata":{"name":"oldsvc","namespace":"old","uid":"uid-oldsvc"},"spec":{"selector":{"app":"old"},"clusterIP":"1.2.3.4","ports":[]},"status":{}},"type":"ADDED"}`)
	// Version 2 documents after a version 1 one are not read as such.
	c.k8s(k8s.Added, pod("old", "newpod", "uid-newpod", labels{"app": "old"}, "docker://"+id))
	c.closeFD(100, 3)
	c.close()
}

func TestK8sFields(t *testing.T) {
	requireSysdig(t)
	path := filepath.Join(t.TempDir(), "k8s.scap")
	writeK8sCapture(t, path)
	for _, args := range [][]string{
		{"-r", path, "-p", k8sFields},
		{"-r", path, "-pk"},
		{"-r", path, "-p", "%evt.num %k8s.pod.name %k8s.svc.name %k8s.deployment.name", "-j"},
		{"-r", path, "-p", k8sFields, "k8s.svc.name=svc-all"},
		{"-r", path, "-p", k8sFields, "k8s.svc.name contains svc-web"},
		{"-r", path, "-p", k8sFields, "k8s.ns.label.team=blue"},
		{"-r", path, "-p", k8sFields, "k8s.ns.name=default"},
		{"-r", path, "-p", k8sFields, "k8s.deployment.name=front"},
		{"-r", path, "-p", k8sFields, "k8s.rs.name exists"},
		{"-r", path, "-p", k8sFields, "k8s.rc.name=rc-db and k8s.rc.label.ver=1"},
		{"-r", path, "-p", k8sFields, "k8s.pod.label.app=web and not k8s.pod.name=web-1"},
		{"-r", path, "-p", k8sFields, "k8s.pod.labels contains role"},
		{"-r", path, "-p", k8sFields, "k8s.svc.label.zone=eu or k8s.ns.id=uid-ns-default"},
		{"-r", path, "-p", k8sFields, "k8s.pod.id in (uid-db-1, uid-other)"},
	} {
		t.Run(strings.Join(args[2:], " "), func(t *testing.T) {
			compareTools(t, args, noOracleCache())
		})
	}
}

func TestK8sFieldsMany(t *testing.T) {
	requireSysdig(t)
	path := filepath.Join(t.TempDir(), "k8s-many.scap")
	writeK8sManyCapture(t, path)
	compareTools(t, []string{"-r", path, "-p", k8sFields}, noOracleCache())
	compareTools(t, []string{"-r", path, "-p", k8sFields, "k8s.svc.name startswith s3"}, noOracleCache())
}

func TestK8sFieldsV1(t *testing.T) {
	requireSysdig(t)
	path := filepath.Join(t.TempDir(), "k8s-v1.scap")
	writeK8sV1Capture(t, path)
	compareTools(t, []string{"-r", path, "-p", k8sFields}, noOracleCache())
}

// labDeployment is the deployment of TestK8sLab: one pod that sleeps, and
// goes at once when deleted.
const labDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: sleeper
        image: ` + labenv.BusyboxImage + `
        imagePullPolicy: Never
        command: [sleep, "3600"]
        ports: [{name: http, containerPort: 8080}]
`

// TestK8sLab follows the lab's Kubernetes with the k8s package, writes what
// it delivers as K8S_E events in a capture with a thread in the pod's
// container, and compares sysdig and syscope on it: the payloads of a real
// API server must give sysdig the same k8s.* fields as syscope.
func TestK8sLab(t *testing.T) {
	labenv.NeedLab(t)
	requireSysdig(t)
	const ns = "k8s-helper-test"
	_ = labenv.Command("kubectl", "delete", "namespace", ns, "--ignore-not-found", "--timeout=90s").Run()
	labenv.Kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { _ = labenv.Command("kubectl", "delete", "namespace", ns, "--wait=false").Run() })
	labenv.Kubectl(t, "label", "namespace", ns, "team=helper")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := k8s.New(ctx, k8s.WithKubeconfig(labenv.Kubeconfig()), k8s.WithWarn(func(s string) { t.Log(s) }))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var (
		mu       sync.Mutex
		payloads [][]byte
		st       = state.NewK8s()
	)
	go func() {
		for p := range w.Events() {
			mu.Lock()
			payloads = append(payloads, p)
			st.Apply(p)
			mu.Unlock()
		}
	}()
	// waitFor polls the state built from the payloads.
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
			mu.Lock()
			done := ok()
			mu.Unlock()
			if done {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("%s: not after %v (watcher: %v)", what, d, w.Err())
			}
		}
	}
	select {
	case <-w.Synced():
	case <-time.After(30 * time.Second):
		t.Fatalf("no state from the lab's API server: %v", w.Err())
	}

	cmd := labenv.Command("kubectl", "apply", "-n", ns, "-f", "-")
	cmd.Stdin = strings.NewReader(labDeployment)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	var pod *state.K8sObject
	var cid string
	waitFor("a running pod with its container id", 120*time.Second, func() bool {
		for _, p := range st.Objects(state.K8sPod) {
			if p.Namespace == ns && len(p.ContainerIDs) > 0 {
				pod, cid = p, p.ContainerIDs[0]
				return true
			}
		}
		return false
	})
	// The service comes after the pod: sysdig matches pods to services when
	// a service changes.
	labenv.Kubectl(t, "create", "service", "clusterip", "web", "-n", ns, "--tcp=80:8080")
	full := cid[strings.Index(cid, "://")+3:]
	waitFor("the pod's service, replica set and deployment", 60*time.Second, func() bool {
		p := st.PodOfContainer(full[:12])
		return p != nil && len(st.ServicesOf(p)) > 0 && st.ReplicaSetOf(p) != nil && st.DeploymentOf(p) != nil
	})

	// A capture: the payloads so far, then a thread of the pod's container.
	mu.Lock()
	got := append([][]byte(nil), payloads...)
	mu.Unlock()
	path := filepath.Join(t.TempDir(), "lab.scap")
	th := k8sThread(100, "sleep", full)
	th.Cgroups = []string{"cpuset=/kubepods/besteffort/pod" + pod.UID + "/" + full}
	c := newK8sCapture(t, path, []scap.Thread{th})
	for _, p := range got {
		c.event(0, event.K8sE, p)
	}
	c.closeFD(100, 3)
	c.close()
	compareTools(t, []string{"-r", path, "-p", k8sFields}, noOracleCache())
	out := runSyscope(t, []string{"-r", path, "-p", "%k8s.pod.name %k8s.ns.label.team %k8s.svc.name %k8s.deployment.name %k8s.rs.labels"})
	if want := pod.Name + " helper web web app:web"; !strings.HasPrefix(string(out.Stdout), want) {
		t.Errorf("syscope printed %q, want %q...", out.Stdout, want)
	}
	if os.Getenv("SYSCOPE_K8S_KEEP") != "" {
		_ = os.WriteFile(os.Getenv("SYSCOPE_K8S_KEEP"), readFile(t, path), 0o644)
	}

	// sysdig's -k and -K: the API server's URL and a client certificate.
	pki := filepath.Join(labenv.Dir(), "pki")
	w2, err := k8s.New(ctx, k8s.WithAPIServer("https://127.0.0.1:6443"),
		k8s.WithCert(filepath.Join(pki, "admin.crt")+":"+filepath.Join(pki, "admin.key")+":"+filepath.Join(pki, "ca.crt")))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for p := range w2.Events() {
		if strings.Contains(string(p), `"name":"`+ns+`"`) {
			found = true
			break
		}
	}
	if !found {
		t.Errorf("no namespace %s through -k/-K: %v", ns, w2.Err())
	}
	w2.Close()

	// The pod goes with the namespace.
	labenv.Kubectl(t, "delete", "namespace", ns, "--wait=false")
	waitFor("the pod's deletion", 90*time.Second, func() bool { return st.PodOfContainer(full[:12]) == nil })
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package k8s

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/syscope/syscope/state"
)

func item(t *testing.T, obj any) map[string]any {
	t.Helper()
	it, err := Item(obj)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestDocument pins the bytes of K8S_E documents: sysdig's shape, keys
// sorted at every level, absent values null, a newline and a NUL.
func TestDocument(t *testing.T) {
	p := testPod("shop", "web-1", map[string]string{"app": "web", "a&b": "<x>"}, "containerd://0123456789abcdef")
	p.Status.HostIP, p.Status.PodIP = "10.0.0.1", "10.1.0.2"
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}}
	p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "waiting"})
	rs := &appsv1.ReplicaSet{ObjectMeta: testMeta("shop", "rs", nil)}
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	svc := &corev1.Service{ObjectMeta: testMeta("shop", "svc", map[string]string{"s": "1"})}
	svc.Spec.Selector = map[string]string{"app": "web"}
	svc.Spec.Ports = []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}, {Port: 81, TargetPort: intstr.FromInt32(8081), NodePort: 30001}}
	dep := &appsv1.Deployment{ObjectMeta: testMeta("shop", "dep", nil)}
	rc := &corev1.ReplicationController{ObjectMeta: testMeta("shop", "rc", nil)}
	rc.Spec.Selector = map[string]string{"app": "db"}
	for _, tc := range []struct {
		typ  string
		obj  any
		want string
	}{
		{Added, &corev1.Namespace{ObjectMeta: testMeta("", "shop", map[string]string{"team": "blue"})},
			`{"apiVersion":"v1","items":[{"labels":{"team":"blue"},"name":"shop","timestamp":"2024-01-02T03:04:05Z","uid":"uid-shop"}],"kind":"Namespace","type":"ADDED"}`},
		{Modified, p,
			`{"apiVersion":"v1","items":[{"containerStatuses":[{"containerID":"containerd://0123456789abcdef","name":"c0","ready":false,"restartCount":0},{"name":"waiting","ready":false,"restartCount":0}],` +
				`"containers":[{"image":"busybox","name":"c0","ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}],"hostIP":"10.0.0.1","initContainerStatuses":null,` +
				`"labels":{"a&b":"<x>","app":"web"},"name":"web-1","namespace":"shop","nodeName":"node-1","phase":"Running","podIP":"10.1.0.2","timestamp":"2024-01-02T03:04:05Z","uid":"uid-web-1"}],"kind":"Pod","type":"MODIFIED"}`},
		{Added, svc,
			`{"apiVersion":"v1","items":[{"clusterIP":null,"labels":{"s":"1"},"name":"svc","namespace":"shop","ports":[{"port":80,"targetPort":"http"},{"nodePort":30001,"port":81,"targetPort":8081}],` +
				`"selector":{"app":"web"},"timestamp":"2024-01-02T03:04:05Z","uid":"uid-svc"}],"kind":"Service","type":"ADDED"}`},
		{Added, rs,
			`{"apiVersion":"apps/v1","items":[{"labels":null,"name":"rs","namespace":"shop","selector":{"app":"web"},"specReplicas":null,"statReplicas":0,"timestamp":"2024-01-02T03:04:05Z","uid":"uid-rs"}],"kind":"ReplicaSet","type":"ADDED"}`},
		{Deleted, dep,
			`{"apiVersion":"apps/v1","items":[{"labels":null,"name":"dep","namespace":"shop","selector":null,"specReplicas":null,"statReplicas":null,"timestamp":"2024-01-02T03:04:05Z","uid":"uid-dep"}],"kind":"Deployment","type":"DELETED"}`},
		{Added, rc,
			`{"apiVersion":"v1","items":[{"labels":null,"name":"rc","namespace":"shop","selector":{"app":"db"},"specReplicas":null,"statReplicas":0,"timestamp":"2024-01-02T03:04:05Z","uid":"uid-rc"}],"kind":"ReplicationController","type":"ADDED"}`},
	} {
		k, ok := KindOf(tc.obj)
		if !ok {
			t.Fatalf("%T: no kind", tc.obj)
		}
		got := string(Document(tc.typ, k, []map[string]any{item(t, tc.obj)}))
		if got != tc.want+"\n\x00" {
			t.Errorf("%s:\n got %s\nwant %s", k.Name, got, tc.want)
		}
		// What Slim keeps makes the same item.
		slim, _ := Slim(tc.obj)
		if got2 := string(Document(tc.typ, k, []map[string]any{item(t, slim)})); got2 != got {
			t.Errorf("%s: slim object makes\n%s", k.Name, got2)
		}
	}
	if _, err := Item(&corev1.Node{}); err == nil {
		t.Error("an item for a node")
	}
}

func TestDocuments(t *testing.T) {
	var items []map[string]any
	for i := 0; i < 600; i++ {
		items = append(items, item(t, testPod("ns", fmt.Sprintf("%s-%d", strings.Repeat("p", 50), i), map[string]string{"app": strings.Repeat("v", 40)}, "docker://0123456789abcdef")))
	}
	big := item(t, testPod("ns", "big", map[string]string{"huge": strings.Repeat("h", MaxPayload)}))
	docs, dropped := Documents(Added, KindPod, append(items, big))
	if len(dropped) != 1 || len(docs) < 2 {
		t.Fatalf("%d documents, %d dropped", len(docs), len(dropped))
	}
	n := 0
	st := state.NewK8s()
	for _, d := range docs {
		if len(d) > MaxPayload {
			t.Errorf("document of %d bytes", len(d))
		}
		st.Apply(d)
		n += len(decode(t, d).Items)
	}
	if n != len(items) || len(st.Objects(state.K8sPod)) != len(items) {
		t.Errorf("%d items in the documents, %d pods in the state, want %d", n, len(st.Objects(state.K8sPod)), len(items))
	}
	if docs, _ := Documents(Added, KindDeployment, nil); len(docs) != 1 || !strings.Contains(string(docs[0]), `"items":[]`) {
		t.Errorf("no items: %q", docs)
	}
}

func TestParseCertSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CertSpec
		err  bool
	}{
		{"/var/run/token", CertSpec{TokenFile: "/var/run/token"}, false},
		{"c.pem:k.pem", CertSpec{CertFile: "c.pem", KeyFile: "k.pem"}, false},
		{"c.pem:k.pem#secret:ca.pem", CertSpec{CertFile: "c.pem", KeyFile: "k.pem", KeyPassword: "secret", CAFile: "ca.pem"}, false},
		{"c.pem:k.pem:", CertSpec{CertFile: "c.pem", KeyFile: "k.pem"}, false},
		{":k.pem", CertSpec{}, true},
		{"c.pem:", CertSpec{}, true},
		{"c.pem::ca.pem", CertSpec{}, true},
	} {
		got, err := ParseCertSpec(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q: %+v, %v", tc.in, got, err)
		}
	}
}

func TestURLConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	plain := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	//lint:ignore SA1019 -K's password is for legacy encrypted PEM keys
	enc, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", der, []byte("pw"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := write("key.pem", pem.EncodeToMemory(enc))
	certFile := write("cert.pem", []byte("cert"))
	caFile := write("ca.pem", []byte("ca"))
	tokFile := write("token", []byte("tok\n"))

	cfg, err := urlConfig("https://admin:pass@10.0.0.1:6443", "")
	if err != nil || cfg.Host != "https://10.0.0.1:6443" || cfg.Username != "admin" || cfg.Password != "pass" || !cfg.Insecure {
		t.Errorf("basic auth: %+v %v", cfg, err)
	}
	cfg, err = urlConfig("https://10.0.0.1", tokFile)
	if err != nil || cfg.BearerTokenFile != tokFile || !cfg.Insecure {
		t.Errorf("token: %+v %v", cfg, err)
	}
	cfg, err = urlConfig("https://10.0.0.1", certFile+":"+keyFile+"#pw:"+caFile)
	if err != nil || string(cfg.KeyData) != string(plain) || cfg.CAFile != caFile || cfg.Insecure || string(cfg.CertData) != "cert" {
		t.Errorf("certificate: %+v %v", cfg, err)
	}
	if _, err = urlConfig("https://10.0.0.1", certFile+":"+keyFile+"#wrong"); err == nil {
		t.Error("wrong key password accepted")
	}
	cfg, err = urlConfig("http://127.0.0.1:8080", "")
	if err != nil || cfg.Insecure || cfg.Host != "http://127.0.0.1:8080" {
		t.Errorf("plain http: %+v %v", cfg, err)
	}
	for _, bad := range []string{"127.0.0.1:6443", "ftp://x", "https://"} {
		if _, err := urlConfig(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := urlConfig("https://10.0.0.1", filepath.Join(dir, "missing")); err == nil {
		t.Error("missing token file accepted")
	}
}

func TestRestConfigKubeconfig(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kc)
	cfg, err := restConfig(&options{})
	if err != nil || cfg.Host != "https://127.0.0.1:6443" || cfg.BearerToken != "abc" || cfg.Timeout != 0 || cfg.Dial == nil {
		t.Errorf("from $KUBECONFIG: %+v %v", cfg, err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "none"))
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := restConfig(&options{}); err != ErrNoConfig {
		t.Errorf("no configuration: %v", err)
	}
	if _, err := restConfig(&options{kubeconfig: filepath.Join(dir, "none")}); err == nil {
		t.Error("a missing explicit kubeconfig accepted")
	}
}

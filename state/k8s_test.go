package state

import (
	"fmt"
	"strings"
	"testing"
)

// doc makes a capture version 2 K8S_E document.
func doc(typ, kind string, items ...string) []byte {
	api := "v1"
	if kind == "ReplicaSet" || kind == "Deployment" {
		api = "apps/v1"
	}
	return []byte(fmt.Sprintf(`{"apiVersion":%q,"items":[%s],"kind":%q,"type":%q}`+"\n\x00", api, strings.Join(items, ","), kind, typ))
}

func names(l []*K8sObject) string {
	var s []string
	for _, o := range l {
		s = append(s, o.Name)
	}
	return strings.Join(s, ",")
}

func labelString(l []K8sLabel) string {
	var s []string
	for _, p := range l {
		s = append(s, p.Key+"="+p.Value)
	}
	return strings.Join(s, ",")
}

const (
	nsShop  = `{"name":"shop","uid":"u-shop","labels":{"team":"blue","env":"prod","n":3}}`
	podWeb  = `{"name":"web","namespace":"shop","uid":"u-web","labels":{"app":"web","tier":"front"},"containerStatuses":[{"containerID":"containerd://aaaaaaaaaaaaaaaaaaaa"},{"name":"waiting"}],"initContainerStatuses":[{"containerID":"docker://bbbbbbbbbbbbbbbbbbbb"}]}`
	podDB   = `{"name":"db","namespace":"shop","uid":"u-db","labels":{"app":"db"},"containerStatuses":[{"containerID":"rkt://cccccccccccccccccccc"}]}`
	svcWeb  = `{"name":"svc-web","namespace":"shop","uid":"u-svc-web","labels":{"s":"1"},"selector":{"app":"web"}}`
	svcAll  = `{"name":"svc-front","namespace":"shop","uid":"u-svc-front","selector":{"tier":"front"}}`
	svcNone = `{"name":"svc-none","namespace":"shop","uid":"u-svc-none"}`
	rsWeb   = `{"name":"rs-web","namespace":"shop","uid":"u-rs-web","selector":{"app":"web"}}`
)

func TestK8sApply(t *testing.T) {
	k := NewK8s()
	k.Apply(doc("ADDED", "Namespace", nsShop))
	k.Apply(doc("ADDED", "Pod", podWeb, podDB))
	k.Apply(doc("ADDED", "Service", svcWeb, svcAll, svcNone))
	k.Apply(doc("ADDED", "ReplicaSet", rsWeb))
	if k.Version != 2 {
		t.Fatalf("version %d", k.Version)
	}
	web := k.PodOfContainer("aaaaaaaaaaaa")
	if web == nil || web.Name != "web" || k.PodOfContainer("bbbbbbbbbbbb") != web {
		t.Fatalf("web pod by container: %+v", web)
	}
	if db := k.PodOfContainer("cccccccccccccccccccc"); db == nil || db.Name != "db" {
		t.Fatalf("rkt ids are kept whole: %+v", db)
	}
	if got := labelString(web.Labels); got != "app=web,tier=front" {
		t.Errorf("pod labels %s", got)
	}
	if got := labelString(k.Namespace("shop").Labels); got != "env=prod,team=blue" {
		t.Errorf("namespace labels (strings only, sorted) %s", got)
	}
	if got := names(k.ServicesOf(web)); got != "svc-web,svc-front" {
		t.Errorf("services %s", got)
	}
	if rs := k.ReplicaSetOf(web); rs == nil || rs.Name != "rs-web" {
		t.Errorf("replica set %+v", rs)
	}

	// Changes: only the table of the changed kind is rebuilt.
	k.Apply(doc("ADDED", "Pod", `{"name":"web2","namespace":"shop","uid":"u-web2","labels":{"app":"web"},"containerStatuses":[{"containerID":"cri-o://dddddddddddddddd"}]}`))
	web2 := k.PodOfContainer("dddddddddddd")
	if web2 == nil || len(k.ServicesOf(web2)) != 0 || k.ReplicaSetOf(web2) != nil {
		t.Fatalf("a new pod is not matched before its services change: %v", names(k.ServicesOf(web2)))
	}
	k.Apply(doc("MODIFIED", "Service", `{"name":"svc-web","namespace":"shop","uid":"u-svc-web","selector":{"app":"web"}}`))
	if got := names(k.ServicesOf(web2)); got != "svc-web" {
		t.Errorf("after a service change: %s", got)
	}
	if got := labelString(k.ServicesOf(web2)[0].Labels); got != "s=1" {
		t.Errorf("labels absent from a change are kept: %s", got)
	}
	// MODIFIED or DELETED of unknown objects change nothing.
	k.Apply(doc("MODIFIED", "Namespace", `{"name":"ghost","uid":"u-ghost","labels":{"a":"b"}}`))
	k.Apply(doc("DELETED", "Pod", `{"name":"ghost","namespace":"shop","uid":"u-ghost"}`))
	if k.Namespace("ghost") != nil || len(k.Objects(K8sPod)) != 3 {
		t.Errorf("unknown objects changed the state")
	}
	// An empty selector clears a replica set's, not a service's.
	k.Apply(doc("MODIFIED", "ReplicaSet", `{"name":"rs-web","namespace":"shop","uid":"u-rs-web","selector":{}}`))
	if k.ReplicaSetOf(web) != nil {
		t.Errorf("replica set with an empty selector still selects")
	}
	k.Apply(doc("MODIFIED", "Service", `{"name":"svc-web","namespace":"shop","uid":"u-svc-web","selector":{}}`))
	if got := names(k.ServicesOf(web)); got != "svc-web,svc-front" {
		t.Errorf("service selector kept: %s", got)
	}
	// Deletion.
	k.Apply(doc("DELETED", "Pod", podWeb))
	if k.PodOfContainer("aaaaaaaaaaaa") != nil {
		t.Errorf("deleted pod still found")
	}
	// Other types do nothing.
	k.Apply(doc("BOOKMARK", "Pod", podWeb))
	k.Apply(doc("ERROR", "Pod", podWeb))
	k.Apply(doc("NONEXISTENT", "Pod", "null"))
	if k.PodOfContainer("aaaaaaaaaaaa") != nil {
		t.Errorf("a non-ADDED event added a pod")
	}
}

func TestK8sVersion(t *testing.T) {
	for _, tc := range []struct {
		docs []string
		want int
	}{
		{[]string{`{"kind":"Pod","items":[]}`}, 2},
		{[]string{`{"kind":"Pod","type":"ADDED","object":{}}`}, 1},
		{[]string{`{"kind":"Pod"}`, `not json`, `{"kind":"Pod","items":null,"object":{}}`}, 1},
		{[]string{`{"kind":"Pod"}`, `{"kind":"Pod","items":[]}`, `{"kind":"Pod","object":{}}`}, 2},
	} {
		k := NewK8s()
		for _, d := range tc.docs {
			k.Apply([]byte(d))
		}
		if k.Version != tc.want {
			t.Errorf("%q: version %d, want %d", tc.docs, k.Version, tc.want)
		}
	}
}

func TestK8sContainerKeys(t *testing.T) {
	for _, tc := range []struct {
		id, key string
		ok      bool
	}{
		{"docker://0123456789abcdef0123", "0123456789ab", true},
		{"containerd://0123456789abcdef", "0123456789ab", true},
		{"cri-o://0123456789abcdef", "0123456789ab", true},
		{"cri-o://0123", "0123", true},
		{"rkt://0123456789abcdef", "0123456789abcdef", true},
		{"podman://0123456789abcdef", "", false},
		{"", "", false},
	} {
		key, ok := podContainerKey(tc.id)
		if key != tc.key || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.id, key, ok, tc.key, tc.ok)
		}
	}
	// An id sysdig cannot read stops the event: later items are not read.
	k := NewK8s()
	k.Apply(doc("ADDED", "Pod",
		`{"name":"a","namespace":"n","uid":"ua","containerStatuses":[{"containerID":"docker://aaaaaaaaaaaaaaaa"}]}`,
		`{"name":"b","namespace":"n","uid":"ub","containerStatuses":[{"containerID":"weird://bbbbbbbbbbbbbbbb"}]}`,
		`{"name":"c","namespace":"n","uid":"uc","containerStatuses":[{"containerID":"docker://cccccccccccccccc"}]}`))
	if k.PodOfContainer("aaaaaaaaaaaa") == nil || len(k.Objects(K8sPod)) != 2 || k.PodOfContainer("cccccccccccc") != nil {
		t.Errorf("pods %s", names(k.Objects(K8sPod)))
	}
}

// TestK8sMultimapOrder checks the order of a pod's services and its
// deployment, as sysdig's multimaps give them: in the order added while the
// table is small, the last first once it holds more than 20 entries.
func TestK8sMultimapOrder(t *testing.T) {
	k := NewK8s()
	var pods, svcs, deps []string
	for i := 0; i < 12; i++ {
		pods = append(pods, fmt.Sprintf(`{"name":"p%02d","namespace":"n","uid":"up%02d","labels":{"app":"x"},"containerStatuses":[{"containerID":"docker://%012d"}]}`, i, i, i))
	}
	for i := 1; i <= 3; i++ {
		svcs = append(svcs, fmt.Sprintf(`{"name":"s%d","namespace":"n","uid":"us%d","selector":{"app":"x"}}`, i, i))
		deps = append(deps, fmt.Sprintf(`{"name":"d%d","namespace":"n","uid":"ud%d","selector":{"app":"x"}}`, i, i))
	}
	k.Apply(doc("ADDED", "Pod", pods...))
	k.Apply(doc("ADDED", "Service", svcs...))
	k.Apply(doc("ADDED", "Deployment", deps...))
	for _, tc := range []struct {
		pod, svcs, dep string
	}{
		{"000000000000", "s3,s1,s2", "d3"},
		{"000000000008", "s3,s1,s2", "d3"},
		{"000000000009", "s3,s2,s1", "d3"},
		{"000000000011", "s3,s2,s1", "d3"},
	} {
		p := k.PodOfContainer(tc.pod)
		if got := names(k.ServicesOf(p)); got != tc.svcs {
			t.Errorf("%s: services %s, want %s", p.Name, got, tc.svcs)
		}
		if got := k.DeploymentOf(p).Name; got != tc.dep {
			t.Errorf("%s: deployment %s, want %s", p.Name, got, tc.dep)
		}
	}
	// Few entries: the order added, then the later ones last first.
	k = NewK8s()
	k.Apply(doc("ADDED", "Pod", pods[0]))
	k.Apply(doc("ADDED", "Service", append(svcs, `{"name":"s4","namespace":"n","uid":"us4","selector":{"app":"x"}}`)...))
	if got := names(k.ServicesOf(k.PodOfContainer("000000000000"))); got != "s1,s4,s3,s2" {
		t.Errorf("services %s", got)
	}
}

func TestK8sSelectors(t *testing.T) {
	k := NewK8s()
	k.Apply(doc("ADDED", "Pod",
		`{"name":"a","namespace":"n1","uid":"ua","labels":{"app":"x","role":""},"containerStatuses":[{"containerID":"docker://aaaaaaaaaaaaaaaa"}]}`,
		`{"name":"b","namespace":"n2","uid":"ub","labels":{"app":"x"},"containerStatuses":[{"containerID":"docker://bbbbbbbbbbbbbbbb"}]}`))
	k.Apply(doc("ADDED", "ReplicationController",
		`{"name":"rc-role","namespace":"n1","uid":"u1","selector":{"role":""}}`,
		`{"name":"rc-app","namespace":"n1","uid":"u2","selector":{"app":"x"}}`,
		`{"name":"rc-n2","namespace":"n2","uid":"u3","selector":{"app":"x","other":"y"}}`))
	if rc := k.ReplicationControllerOf(k.PodOfContainer("aaaaaaaaaaaa")); rc == nil || rc.Name != "rc-role" {
		t.Errorf("the first controller selecting a pod wins: %+v", rc)
	}
	if rc := k.ReplicationControllerOf(k.PodOfContainer("bbbbbbbbbbbb")); rc != nil {
		t.Errorf("all selectors must match, in the pod's namespace: %+v", rc)
	}
	// Namespaces of the same name: the first wins.
	k.Apply(doc("ADDED", "Namespace", `{"name":"n1","uid":"first"}`, `{"name":"n1","uid":"second"}`))
	if ns := k.Namespace("n1"); ns == nil || ns.UID != "first" {
		t.Errorf("namespace %+v", ns)
	}
}

package k8s

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// fakeAPI is a small Kubernetes API server: it lists and watches the
// objects it is given, serves nodes by name, and refuses the resources it is
// told to.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	rv        int
	objs      map[string][]any // resource -> objects
	watchers  map[string][]chan watchEvent
	forbidden map[string]bool
	nodes     map[string]bool
	queries   map[string][]string // resource -> field selectors asked
}

type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// resources are the paths the watcher uses.
var resources = map[string]struct{ list, kind, api string }{
	"namespaces":             {"NamespaceList", "Namespace", "v1"},
	"pods":                   {"PodList", "Pod", "v1"},
	"replicationcontrollers": {"ReplicationControllerList", "ReplicationController", "v1"},
	"services":               {"ServiceList", "Service", "v1"},
	"replicasets":            {"ReplicaSetList", "ReplicaSet", "apps/v1"},
	"deployments":            {"DeploymentList", "Deployment", "apps/v1"},
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, rv: 10, objs: map[string][]any{}, watchers: map[string][]chan watchEvent{},
		forbidden: map[string]bool{}, nodes: map[string]bool{}, queries: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.close)
	return f
}

func (f *fakeAPI) close() {
	f.mu.Lock()
	for r, ws := range f.watchers {
		for _, w := range ws {
			close(w)
		}
		delete(f.watchers, r)
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *fakeAPI) config() *rest.Config { return &rest.Config{Host: f.srv.URL} }

// add adds an object and tells the watchers.
func (f *fakeAPI) add(resource string, obj any) { f.event(resource, "ADDED", obj) }

func (f *fakeAPI) event(resource, typ string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv++
	setMeta(obj, resource, f.rv)
	l := f.objs[resource]
	uid := metaOf2(obj).UID
	out := l[:0]
	for _, o := range l {
		if metaOf2(o).UID != uid {
			out = append(out, o)
		}
	}
	if typ != "DELETED" {
		out = append(out, obj)
	}
	f.objs[resource] = out
	for _, w := range f.watchers[resource] {
		w <- watchEvent{typ, obj}
	}
}

func metaOf2(obj any) *metav1.ObjectMeta {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return &o.ObjectMeta
	case *corev1.Pod:
		return &o.ObjectMeta
	case *corev1.Service:
		return &o.ObjectMeta
	case *corev1.ReplicationController:
		return &o.ObjectMeta
	case *appsv1.ReplicaSet:
		return &o.ObjectMeta
	case *appsv1.Deployment:
		return &o.ObjectMeta
	}
	panic(fmt.Sprintf("%T", obj))
}

func setMeta(obj any, resource string, rv int) {
	r := resources[resource]
	m := metaOf2(obj)
	m.ResourceVersion = fmt.Sprint(rv)
	tm := metav1.TypeMeta{Kind: r.kind, APIVersion: r.api}
	switch o := obj.(type) {
	case *corev1.Namespace:
		o.TypeMeta = tm
	case *corev1.Pod:
		o.TypeMeta = tm
	case *corev1.Service:
		o.TypeMeta = tm
	case *corev1.ReplicationController:
		o.TypeMeta = tm
	case *appsv1.ReplicaSet:
		o.TypeMeta = tm
	case *appsv1.Deployment:
		o.TypeMeta = tm
	}
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/RESOURCE, /apis/apps/v1/RESOURCE, /api/v1/nodes/NAME
	if len(parts) == 4 && parts[0] == "api" && parts[2] == "nodes" {
		f.mu.Lock()
		ok := f.nodes[parts[3]]
		f.mu.Unlock()
		if !ok {
			status(w, http.StatusNotFound, "NotFound")
			return
		}
		writeJSON(w, &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: parts[3]}})
		return
	}
	resource := parts[len(parts)-1]
	if _, ok := resources[resource]; !ok {
		status(w, http.StatusNotFound, "NotFound")
		return
	}
	f.mu.Lock()
	if f.forbidden[resource] {
		f.mu.Unlock()
		status(w, http.StatusForbidden, "Forbidden")
		return
	}
	f.queries[resource] = append(f.queries[resource], r.URL.Query().Get("fieldSelector"))
	if r.URL.Query().Get("watch") != "true" {
		res := resources[resource]
		items := append([]any(nil), f.objs[resource]...)
		if items == nil {
			items = []any{}
		}
		rv := f.rv
		f.mu.Unlock()
		writeJSON(w, map[string]any{"kind": res.list, "apiVersion": res.api, "metadata": map[string]any{"resourceVersion": fmt.Sprint(rv)}, "items": items})
		return
	}
	ch := make(chan watchEvent, 16)
	f.watchers[resource] = append(f.watchers[resource], ch)
	f.mu.Unlock()
	defer f.unwatch(resource, ch)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			_ = enc.Encode(ev)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeAPI) unwatch(resource string, ch chan watchEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.watchers[resource]
	for i, c := range l {
		if c == ch {
			f.watchers[resource] = append(l[:i], l[i+1:]...)
			break
		}
	}
}

func (f *fakeAPI) fieldSelectors(resource string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries[resource]...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func status(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
		"reason": reason, "code": code, "message": strings.ToLower(reason)})
}

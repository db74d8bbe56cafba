package state

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// Kubernetes metadata, as libsinsp 0.29.3 keeps it for the k8s.* fields.
//
// A capture holds it as K8S_E events, each carrying one JSON document. sysdig
// writes them when capturing live with -k: the API server's list and watch
// responses, reshaped to {"type", "apiVersion", "kind", "items": [...]} where
// each item is a flat object (name, uid, namespace, labels, selector,
// containerStatuses...). That is capture version 2; version 1, written by
// older sysdigs, carried whole watch events ({"type", "object": {...}}). The
// first K8S_E event of a capture decides the version of all of them.
//
// The state is updated item by item, and after each item only the lookup
// table of that item's kind is rebuilt, as libsinsp does: a pod added after a
// service is not seen as selected by it until a service event comes. The
// fields then find the pod of a thread by its container id, and the
// namespace, services, replication controller, replica set and deployment of
// the pod through those tables.

// K8sKind is a kind of Kubernetes object, numbered as libsinsp's
// k8s_component::type.
type K8sKind uint8

// Kubernetes object kinds.
const (
	K8sNode K8sKind = iota
	K8sNamespace
	K8sPod
	K8sReplicationController
	K8sService
	K8sEvent
	K8sReplicaSet
	K8sDaemonSet
	K8sDeployment
	numK8sKinds
)

// k8sKindNames are the "kind" values of K8S_E events (the Kubernetes kinds,
// and EventList for events).
var k8sKindNames = [numK8sKinds]string{
	K8sNode:                  "Node",
	K8sNamespace:             "Namespace",
	K8sPod:                   "Pod",
	K8sReplicationController: "ReplicationController",
	K8sService:               "Service",
	K8sEvent:                 "EventList",
	K8sReplicaSet:            "ReplicaSet",
	K8sDaemonSet:             "DaemonSet",
	K8sDeployment:            "Deployment",
}

// String is the kind as K8S_E events name it.
func (k K8sKind) String() string {
	if k < numK8sKinds {
		return k8sKindNames[k]
	}
	return "?"
}

// K8sLabel is a label or a selector term.
type K8sLabel struct{ Key, Value string }

// K8sObject is a Kubernetes object of the state.
type K8sObject struct {
	Kind      K8sKind
	Name      string
	UID       string
	Namespace string // empty for namespaces and nodes
	// Labels are sorted by key (libsinsp reads them in that order); only
	// string values are kept.
	Labels []K8sLabel
	// Selectors select pods (services, replication controllers, replica
	// sets, deployments): all must be among a pod's labels.
	Selectors []K8sLabel
	// ContainerIDs are a pod's container ids as the API server gives them
	// ("containerd://<id>"): its containers', then its init containers'.
	ContainerIDs []string
}

// Label returns the value of the label key.
func (o *K8sObject) Label(key string) (string, bool) {
	for i := range o.Labels {
		if o.Labels[i].Key == key {
			return o.Labels[i].Value, true
		}
	}
	return "", false
}

// selects reports whether o's selectors select pod (libsinsp's
// get_selected_pods): same namespace, and every selector among its labels.
func (o *K8sObject) selects(pod *K8sObject) bool {
	if o.Namespace != pod.Namespace || len(o.Selectors) == 0 || len(pod.Labels) == 0 {
		return false
	}
	for _, s := range o.Selectors {
		if v, ok := pod.Label(s.Key); !ok || v != s.Value {
			return false
		}
	}
	return true
}

// K8s is the Kubernetes state of a capture. State.K8s is nil until the first
// K8S_E event.
type K8s struct {
	// Version is the capture version the first K8S_E event showed (1 or 2),
	// 0 while none was recognised.
	Version int

	objs  [numK8sKinds][]*K8sObject
	kinds map[string]K8sKind // uid -> kind, of every object

	// The lookup tables the fields use, each rebuilt when an object of its
	// kind changes.
	nsByName       map[string]*K8sObject   // namespace name -> namespace
	podByContainer map[string]*K8sObject   // container id (12 characters for most runtimes) -> pod
	podServices    map[string][]*K8sObject // pod uid -> services
	podRC          map[string]*K8sObject   // pod uid -> replication controller
	podRS          map[string]*K8sObject   // pod uid -> replica set
	podDeployments map[string][]*K8sObject // pod uid -> deployments
}

// NewK8s returns an empty Kubernetes state.
func NewK8s() *K8s {
	return &K8s{
		kinds:          make(map[string]K8sKind),
		nsByName:       make(map[string]*K8sObject),
		podByContainer: make(map[string]*K8sObject),
		podServices:    make(map[string][]*K8sObject),
		podRC:          make(map[string]*K8sObject),
		podRS:          make(map[string]*K8sObject),
		podDeployments: make(map[string][]*K8sObject),
	}
}

// Objects returns the objects of a kind, in the order they were added.
func (k *K8s) Objects(kind K8sKind) []*K8sObject {
	if kind >= numK8sKinds {
		return nil
	}
	return k.objs[kind]
}

// PodOfContainer returns the pod running the container id (as thread
// container ids are: 12 characters for docker, containerd and cri-o), or nil.
func (k *K8s) PodOfContainer(id string) *K8sObject { return k.podByContainer[id] }

// Namespace returns the namespace called name, or nil.
func (k *K8s) Namespace(name string) *K8sObject { return k.nsByName[name] }

// ServicesOf returns the services selecting pod, in the order sysdig lists them.
func (k *K8s) ServicesOf(pod *K8sObject) []*K8sObject { return k.podServices[pod.UID] }

// ReplicationControllerOf returns the replication controller of pod, or nil.
func (k *K8s) ReplicationControllerOf(pod *K8sObject) *K8sObject { return k.podRC[pod.UID] }

// ReplicaSetOf returns the replica set of pod, or nil.
func (k *K8s) ReplicaSetOf(pod *K8sObject) *K8sObject { return k.podRS[pod.UID] }

// DeploymentOf returns the deployment of pod, or nil.
func (k *K8s) DeploymentOf(pod *K8sObject) *K8sObject {
	if d := k.podDeployments[pod.UID]; len(d) > 0 {
		return d[0]
	}
	return nil
}

// parseK8s handles a K8S_E event (libsinsp's parse_k8s_evt: the Kubernetes
// state exists from the first one on, valid or not).
func (s *State) parseK8s(e *Event) {
	if s.K8s == nil {
		s.K8s = NewK8s()
	}
	s.K8s.Apply(e.param(0))
}

// Apply applies one K8S_E event's JSON document to the state.
func (k *K8s) Apply(doc []byte) {
	// jsoncpp reads the first value and ignores what follows it (sysdig
	// writes a newline and a NUL after the document).
	var root map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(doc)).Decode(&root) != nil {
		return // sysdig stops: invalid K8s capture JSON
	}
	if k.Version == 0 {
		switch {
		case !isNull(root["items"]):
			k.Version = 2
		case !isNull(root["object"]):
			k.Version = 1
		default:
			return // sysdig stops: unrecognized K8s capture format
		}
	}
	var kindName string
	if json.Unmarshal(root["kind"], &kindName) != nil {
		return // "Component type not found in JSON"
	}
	kind := numK8sKinds
	for i, n := range k8sKindNames {
		if n == kindName {
			kind = K8sKind(i)
		}
	}
	if kind == numK8sKinds {
		return // "Unrecognized component type"
	}
	if k.Version == 1 {
		k.applyV1(kind, root)
		return
	}
	k.applyV2(kind, root)
}

// Reasons of watch events (k8s_component::msg_reason).
const (
	k8sUnknown = iota
	k8sAdded
	k8sModified
	k8sDeleted
)

// reason reads an event type by its first letter, as libsinsp does.
func k8sReason(t string) int {
	if t == "" {
		return k8sUnknown
	}
	switch t[0] {
	case 'A':
		return k8sAdded
	case 'M':
		return k8sModified
	case 'D':
		return k8sDeleted
	}
	// NONEXISTENT, ERROR and the rest change nothing.
	return k8sUnknown
}

// applyV2 applies a capture version 2 document (k8s_handler::handle_json).
func (k *K8s) applyV2(kind K8sKind, root map[string]json.RawMessage) {
	if kind == K8sEvent {
		return // Kubernetes events are only kept with an event filter
	}
	typ, ok := jsonString(root["type"])
	if !ok {
		return
	}
	reason := k8sReason(typ)
	for _, raw := range jsonElements(root["items"]) {
		var item map[string]json.RawMessage
		if json.Unmarshal(raw, &item) != nil {
			continue
		}
		name, _ := jsonString(item["name"])
		uid, _ := jsonString(item["uid"])
		ns, _ := jsonString(item["namespace"])
		switch reason {
		case k8sAdded:
		case k8sModified, k8sDeleted:
			if _, ok := k.kinds[uid]; !ok {
				continue // for a non-existing object: giving up
			}
		default:
			continue
		}
		if reason == k8sDeleted {
			if !k.remove(kind, uid) {
				continue
			}
		} else {
			o := k.get(kind, name, uid, ns)
			if l := stringPairs(item["labels"]); len(l) > 0 {
				o.Labels = l
			}
			switch kind {
			case K8sPod:
				o.ContainerIDs = containerIDs(item["containerStatuses"], item["initContainerStatuses"])
			case K8sService:
				if sel := stringPairs(item["selector"]); len(sel) > 0 {
					o.Selectors = sel
				}
			case K8sReplicationController, K8sReplicaSet, K8sDeployment:
				if !isNull(item["selector"]) {
					o.Selectors = stringPairs(item["selector"])
				}
			}
		}
		if !k.rebuild(kind) {
			return // sysdig throws on a container id it cannot read
		}
	}
}

// applyV1 applies a capture version 1 document: a watch event with the whole
// API object (k8s_dispatcher::extract_data). libsinsp 0.29.3 reads a pod's
// container statuses at the top of the object there, where API objects do
// not have them: pods of such captures have no containers, and so no thread
// finds its pod.
func (k *K8s) applyV1(kind K8sKind, root map[string]json.RawMessage) {
	var typ string
	if json.Unmarshal(root["type"], &typ) != nil {
		return
	}
	reason := k8sReason(typ)
	if reason == k8sUnknown || kind == K8sEvent {
		return
	}
	var object, meta, spec map[string]json.RawMessage
	_ = json.Unmarshal(root["object"], &object)
	_ = json.Unmarshal(object["metadata"], &meta)
	_ = json.Unmarshal(object["spec"], &spec)
	name, _ := jsonString(meta["name"])
	uid, _ := jsonString(meta["uid"])
	ns, _ := jsonString(meta["namespace"])
	if reason == k8sDeleted {
		if !k.remove(kind, uid) && kind == K8sPod {
			return
		}
		k.rebuild(kind)
		return
	}
	if object == nil || (reason == k8sModified && !k.hasOfKind(kind, uid)) {
		return
	}
	o := k.get(kind, name, uid, ns)
	labels := stringPairs(meta["labels"])
	switch kind {
	case K8sNamespace, K8sNode:
		if len(labels) > 0 {
			if reason == k8sModified {
				o.Labels = addPairs(o.Labels, labels)
			} else {
				o.Labels = labels
			}
		}
	default:
		if meta != nil {
			o.Labels = labels
		}
	}
	switch kind {
	case K8sPod:
		o.ContainerIDs = containerIDs(object["containerStatuses"], object["initContainerStatuses"])
	case K8sService, K8sReplicationController, K8sReplicaSet, K8sDeployment, K8sDaemonSet:
		if sel := spec["selector"]; !isNull(sel) {
			var s map[string]json.RawMessage
			_ = json.Unmarshal(sel, &s)
			if !isNull(s["matchLabels"]) {
				sel = s["matchLabels"]
			}
			o.Selectors = stringPairs(sel)
		}
	}
	k.rebuild(kind)
}

// hasOfKind reports whether an object of kind has the uid.
func (k *K8s) hasOfKind(kind K8sKind, uid string) bool {
	for _, o := range k.objs[kind] {
		if o.UID == uid {
			return true
		}
	}
	return false
}

// addPairs adds or replaces the pairs of add in l.
func addPairs(l, add []K8sLabel) []K8sLabel {
	out := append([]K8sLabel(nil), l...)
	for _, a := range add {
		found := false
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value, found = a.Value, true
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// get returns the object of kind with uid, adding it when there is none.
// An existing object keeps its name and namespace.
func (k *K8s) get(kind K8sKind, name, uid, ns string) *K8sObject {
	for _, o := range k.objs[kind] {
		if o.UID == uid {
			return o
		}
	}
	if kind == K8sNamespace || kind == K8sNode {
		ns = ""
	}
	o := &K8sObject{Kind: kind, Name: name, UID: uid, Namespace: ns}
	k.objs[kind] = append(k.objs[kind], o)
	k.kinds[uid] = kind
	return o
}

// remove deletes the object of kind with uid; false if there is none.
func (k *K8s) remove(kind K8sKind, uid string) bool {
	l := k.objs[kind]
	for i, o := range l {
		if o.UID == uid {
			copy(l[i:], l[i+1:])
			l[len(l)-1] = nil
			k.objs[kind] = l[:len(l)-1]
			delete(k.kinds, uid)
			return true
		}
	}
	return false
}

// rebuild rebuilds the lookup table of kind (k8s_state_t::update_cache). It
// returns false when a pod has a container id of an unknown runtime, where
// sysdig throws.
func (k *K8s) rebuild(kind K8sKind) bool {
	switch kind {
	case K8sNamespace:
		clear(k.nsByName)
		for _, ns := range k.objs[K8sNamespace] {
			if _, ok := k.nsByName[ns.Name]; !ok {
				k.nsByName[ns.Name] = ns
			}
		}
	case K8sPod:
		clear(k.podByContainer)
		for _, pod := range k.objs[K8sPod] {
			for _, id := range pod.ContainerIDs {
				key, ok := podContainerKey(id)
				if !ok {
					return false
				}
				k.podByContainer[key] = pod // the last pod wins
			}
		}
	case K8sReplicationController:
		k.rebuildOwner(k.podRC, K8sReplicationController)
	case K8sReplicaSet:
		k.rebuildOwner(k.podRS, K8sReplicaSet)
	case K8sService:
		k.rebuildMulti(k.podServices, K8sService)
	case K8sDeployment:
		k.rebuildMulti(k.podDeployments, K8sDeployment)
	}
	return true
}

// rebuildOwner maps each pod to the first object of kind selecting it.
func (k *K8s) rebuildOwner(m map[string]*K8sObject, kind K8sKind) {
	clear(m)
	for _, o := range k.objs[kind] {
		for _, pod := range k.objs[K8sPod] {
			if _, ok := m[pod.UID]; !ok && o.selects(pod) {
				m[pod.UID] = o
			}
		}
	}
}

// multimapSmall is the size up to which libstdc++ 12's unordered_multimap of
// strings (sysdig 0.29.3's build) inserts a value for a key it has after the
// first value of that key; past it, before all of them.
const multimapSmall = 20

// rebuildMulti maps each pod to all objects of kind selecting it, in the
// order libsinsp's unordered multimap gives them (and finds the first of):
// objects are inserted in the order they were added, each new value for a
// pod going second while the map holds at most multimapSmall entries, first
// after that.
func (k *K8s) rebuildMulti(m map[string][]*K8sObject, kind K8sKind) {
	for uid, l := range m {
		clear(l)
		m[uid] = l[:0]
	}
	n := 0
	for _, o := range k.objs[kind] {
		for _, pod := range k.objs[K8sPod] {
			if !o.selects(pod) {
				continue
			}
			l := append(m[pod.UID], nil)
			at := 0
			switch {
			case len(l) == 1:
			case n <= multimapSmall:
				at = 1
			}
			copy(l[at+1:], l[at:])
			l[at] = o
			m[pod.UID] = l
			n++
		}
	}
	for uid, l := range m {
		if len(l) == 0 {
			delete(m, uid)
		}
	}
}

// Container id prefixes of the runtimes libsinsp knows, and whether it keeps
// only 12 characters of the id after them.
var k8sRuntimes = []struct {
	prefix string
	short  bool
}{
	{"docker://", true},
	{"rkt://", false},
	{"containerd://", true},
	{"cri-o://", true},
}

// podContainerKey is the key of a pod's container id in the container to pod
// table (k8s_state_t::cache_pod).
func podContainerKey(id string) (string, bool) {
	for _, r := range k8sRuntimes {
		if strings.HasPrefix(id, r.prefix) {
			id = id[len(r.prefix):]
			if r.short && len(id) > 12 {
				id = id[:12]
			}
			return id, true
		}
	}
	return "", false
}

// containerIDs reads the containerID of each container status.
func containerIDs(lists ...json.RawMessage) []string {
	var ids []string
	for _, raw := range lists {
		for _, st := range jsonElements(raw) {
			var s map[string]json.RawMessage
			if json.Unmarshal(st, &s) != nil || isNull(s["containerID"]) {
				continue
			}
			if id, ok := jsonString(s["containerID"]); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// stringPairs reads an object's string members, sorted by key (jsoncpp
// keeps object members sorted).
func stringPairs(raw json.RawMessage) []K8sLabel {
	var m map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	l := make([]K8sLabel, 0, len(m))
	for key, v := range m {
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			l = append(l, K8sLabel{key, s})
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Key < l[j].Key })
	return l
}

// jsonElements returns the elements of an array, or the member values of an
// object sorted by key (iterating a jsoncpp object yields them so).
func jsonElements(raw json.RawMessage) []json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) == nil {
		return a
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		a = append(a, m[key])
	}
	return a
}

// isNull reports whether a JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event types of K8S_E documents.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
)

// MaxPayload is the largest K8S_E parameter a capture can hold: its length is
// a 16-bit number (the JSON document, its newline and a NUL).
const MaxPayload = 65535

// Kind describes one kind of object the watcher follows: the "kind" and
// "apiVersion" its K8S_E documents carry.
type Kind struct {
	Name       string // Namespace, Pod, ...
	APIVersion string // v1, apps/v1
}

// The kinds, in the order sysdig dumps them when it connects (after the nodes
// it also lists, which no field uses).
var (
	KindNamespace             = Kind{"Namespace", "v1"}
	KindPod                   = Kind{"Pod", "v1"}
	KindReplicationController = Kind{"ReplicationController", "v1"}
	KindService               = Kind{"Service", "v1"}
	KindReplicaSet            = Kind{"ReplicaSet", "apps/v1"}
	KindDeployment            = Kind{"Deployment", "apps/v1"}
)

// KindOf returns the kind of a Kubernetes object the watcher handles.
func KindOf(obj any) (Kind, bool) {
	switch obj.(type) {
	case *corev1.Namespace:
		return KindNamespace, true
	case *corev1.Pod:
		return KindPod, true
	case *corev1.ReplicationController:
		return KindReplicationController, true
	case *corev1.Service:
		return KindService, true
	case *appsv1.ReplicaSet:
		return KindReplicaSet, true
	case *appsv1.Deployment:
		return KindDeployment, true
	}
	return Kind{}, false
}

// Item returns the item sysdig 0.29.3 makes of an object in a K8S_E document
// (the output of its handlers' jq filters: a flat object; absent values are
// null). Pod containers keep only their name, image and ports, and container
// statuses their name, ids, image, readiness and restart count: the rest of
// the API objects is of no use to the fields, and sysdig reads no more.
func Item(obj any) (map[string]any, error) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return map[string]any{
			"name":      o.Name,
			"uid":       string(o.UID),
			"timestamp": timestamp(o.CreationTimestamp),
			"labels":    labels(o.Labels),
		}, nil
	case *corev1.Pod:
		return podItem(o), nil
	case *corev1.ReplicationController:
		it := common(&o.ObjectMeta)
		it["specReplicas"] = int32Ptr(o.Spec.Replicas)
		it["statReplicas"] = o.Status.Replicas
		it["selector"] = labels(o.Spec.Selector)
		return it, nil
	case *corev1.Service:
		it := common(&o.ObjectMeta)
		it["clusterIP"] = str(o.Spec.ClusterIP)
		it["ports"] = servicePorts(o.Spec.Ports)
		it["selector"] = labels(o.Spec.Selector)
		return it, nil
	case *appsv1.ReplicaSet:
		it := common(&o.ObjectMeta)
		it["specReplicas"] = int32Ptr(o.Spec.Replicas)
		it["statReplicas"] = o.Status.Replicas
		it["selector"] = matchLabels(o.Spec.Selector)
		return it, nil
	case *appsv1.Deployment:
		it := common(&o.ObjectMeta)
		it["specReplicas"] = int32Ptr(o.Spec.Replicas)
		// The API omits a deployment's status replicas when 0.
		if o.Status.Replicas != 0 {
			it["statReplicas"] = o.Status.Replicas
		} else {
			it["statReplicas"] = nil
		}
		it["selector"] = matchLabels(o.Spec.Selector)
		return it, nil
	}
	return nil, fmt.Errorf("k8s: no K8S_E item for %T", obj)
}

// Document encodes a K8S_E parameter: the JSON document of an event of type
// typ on items of kind k, as sysdig writes it (compact, keys sorted, then a
// newline), and a NUL.
func Document(typ string, k Kind, items []map[string]any) []byte {
	if items == nil {
		items = []map[string]any{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Maps encode with sorted keys; values are strings, numbers, maps and
	// slices of them: encoding cannot fail.
	_ = enc.Encode(map[string]any{"type": typ, "apiVersion": k.APIVersion, "kind": k.Name, "items": items})
	b.WriteByte(0)
	return b.Bytes()
}

// Documents encodes the items of kind k as as few K8S_E parameters as fit in
// MaxPayload each (sysdig puts a whole list in one, which its 16-bit length
// cannot always hold); no items make one document with none, as sysdig
// writes for an empty list. Items too large for a parameter on their own
// are left out and returned in dropped.
func Documents(typ string, k Kind, items []map[string]any) (docs [][]byte, dropped []map[string]any) {
	if len(items) == 0 {
		return [][]byte{Document(typ, k, nil)}, nil
	}
	empty := len(Document(typ, k, nil))
	var cur []map[string]any
	size := empty
	for _, it := range items {
		b, _ := json.Marshal(it)
		n := len(b) + 1 // and a comma
		if empty+n > MaxPayload {
			dropped = append(dropped, it)
			continue
		}
		if size+n > MaxPayload && len(cur) > 0 {
			docs = append(docs, Document(typ, k, cur))
			cur, size = nil, empty
		}
		cur = append(cur, it)
		size += n
	}
	if len(cur) > 0 {
		docs = append(docs, Document(typ, k, cur))
	}
	return docs, dropped
}

func common(m *metav1.ObjectMeta) map[string]any {
	return map[string]any{
		"namespace": str(m.Namespace),
		"name":      m.Name,
		"uid":       string(m.UID),
		"timestamp": timestamp(m.CreationTimestamp),
		"labels":    labels(m.Labels),
	}
}

func podItem(p *corev1.Pod) map[string]any {
	it := common(&p.ObjectMeta)
	it["nodeName"] = str(p.Spec.NodeName)
	it["hostIP"] = str(p.Status.HostIP)
	it["podIP"] = str(p.Status.PodIP)
	it["phase"] = str(string(p.Status.Phase))
	var cs []any
	for _, c := range p.Spec.Containers {
		m := map[string]any{"name": c.Name}
		if c.Image != "" {
			m["image"] = c.Image
		}
		if len(c.Ports) > 0 {
			var ports []any
			for _, cp := range c.Ports {
				pm := map[string]any{"containerPort": cp.ContainerPort}
				if cp.Name != "" {
					pm["name"] = cp.Name
				}
				if cp.Protocol != "" {
					pm["protocol"] = string(cp.Protocol)
				}
				if cp.HostPort != 0 {
					pm["hostPort"] = cp.HostPort
				}
				ports = append(ports, pm)
			}
			m["ports"] = ports
		}
		cs = append(cs, m)
	}
	it["containers"] = nilIfEmpty(cs)
	it["containerStatuses"] = containerStatuses(p.Status.ContainerStatuses)
	it["initContainerStatuses"] = containerStatuses(p.Status.InitContainerStatuses)
	return it
}

// containerStatuses keeps what sysdig reads of container statuses, and the
// names. A container not started yet has no id: the API then leaves the
// field out, and so must we (sysdig stops on an id it cannot read).
func containerStatuses(l []corev1.ContainerStatus) any {
	var out []any
	for _, s := range l {
		m := map[string]any{"name": s.Name, "restartCount": s.RestartCount, "ready": s.Ready}
		if s.ContainerID != "" {
			m["containerID"] = s.ContainerID
		}
		if s.Image != "" {
			m["image"] = s.Image
		}
		if s.ImageID != "" {
			m["imageID"] = s.ImageID
		}
		out = append(out, m)
	}
	return nilIfEmpty(out)
}

func servicePorts(l []corev1.ServicePort) any {
	var out []any
	for _, p := range l {
		m := map[string]any{"port": p.Port}
		if p.Name != "" {
			m["name"] = p.Name
		}
		if p.Protocol != "" {
			m["protocol"] = string(p.Protocol)
		}
		if p.TargetPort.String() != "0" {
			m["targetPort"] = p.TargetPort // an int or a string, as in the API
		}
		if p.NodePort != 0 {
			m["nodePort"] = p.NodePort
		}
		out = append(out, m)
	}
	return nilIfEmpty(out)
}

func nilIfEmpty(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// str is a string the API omits when empty: null then.
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func labels(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func matchLabels(s *metav1.LabelSelector) any {
	if s == nil {
		return nil
	}
	return labels(s.MatchLabels)
}

func int32Ptr(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

func timestamp(t metav1.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// encodeItem is the JSON of an item, to compare items.
func encodeItem(it map[string]any) []byte {
	b, _ := json.Marshal(it)
	return b
}

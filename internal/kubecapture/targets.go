package kubecapture

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// resolveTargets finds the pods to capture and groups them by node.
func resolveTargets(ctx context.Context, c kubernetes.Interface, o *Options) ([]*nodeCapture, []string, error) {
	var pods []*corev1.Pod
	var notes []string
	if o.Selector != "" {
		list, err := c.CoreV1().Pods(o.Namespace).List(ctx, metav1.ListOptions{LabelSelector: o.Selector})
		if err != nil {
			return nil, nil, apiError(err, "listing the pods of namespace "+o.Namespace)
		}
		for i := range list.Items {
			p := &list.Items[i]
			if p.Labels[LabelManagedBy] == ManagedBy {
				continue // a capture pod
			}
			if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" {
				notes = append(notes, fmt.Sprintf("pod %s is %s: not captured", p.Name, describePhase(p)))
				continue
			}
			pods = append(pods, p)
		}
		if len(pods) == 0 {
			if len(list.Items) == 0 {
				if err := checkNamespace(ctx, c, o.Namespace); err != nil {
					return nil, nil, err
				}
				return nil, nil, fmt.Errorf("no pod in namespace %s matches -l %s (list the labels with: kubectl get pods -n %s --show-labels)", o.Namespace, o.Selector, o.Namespace)
			}
			return nil, nil, fmt.Errorf("no running pod in namespace %s matches -l %s: %s", o.Namespace, o.Selector, strings.Join(notes, "; "))
		}
	} else {
		p, err := c.CoreV1().Pods(o.Namespace).Get(ctx, o.Pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil, podNotFound(ctx, c, o.Namespace, o.Pod)
		}
		if err != nil {
			return nil, nil, apiError(err, fmt.Sprintf("reading pod %s in namespace %s", o.Pod, o.Namespace))
		}
		if err := runningCheck(p); err != nil {
			return nil, nil, err
		}
		pods = append(pods, p)
	}
	byNode := map[string]*nodeCapture{}
	var out []*nodeCapture
	for _, p := range pods {
		nc := byNode[p.Spec.NodeName]
		if nc == nil {
			nc = &nodeCapture{Node: p.Spec.NodeName}
			byNode[p.Spec.NodeName] = nc
			out = append(out, nc)
		}
		nc.Targets = append(nc.Targets, p)
	}
	if o.Container != "" {
		id, err := containerID(pods[0], o.Container)
		if err != nil {
			return nil, nil, err
		}
		out[0].Containers = []string{id}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	if !o.WholeNode {
		for _, nc := range out {
			if len(nc.Targets) > 16 {
				return nil, nil, fmt.Errorf("%d selected pods run on node %s: the kernel filter takes at most 16 pods per node; narrow -l, or capture the whole node with --node and a filter (e.g. k8s.ns.name=%s)", len(nc.Targets), nc.Node, o.Namespace)
			}
		}
	}
	return out, notes, nil
}

// runningCheck says why pod p cannot be captured, or nil.
func runningCheck(p *corev1.Pod) error {
	switch {
	case p.DeletionTimestamp != nil:
		return fmt.Errorf("pod %s in namespace %s is being deleted: nothing will run there to capture", p.Name, p.Namespace)
	case p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "":
		return nil
	case p.Status.Phase == corev1.PodPending:
		return fmt.Errorf("pod %s in namespace %s is not running yet (%s): capture it once it runs (kubectl get pod -n %s %s -w), or see why with kubectl describe pod -n %s %s",
			p.Name, p.Namespace, describePhase(p), p.Namespace, p.Name, p.Namespace, p.Name)
	default:
		return fmt.Errorf("pod %s in namespace %s is not running (%s): it has no processes left to capture", p.Name, p.Namespace, describePhase(p))
	}
}

// describePhase is the pod's phase with the reason kubectl would show.
func describePhase(p *corev1.Pod) string {
	s := string(p.Status.Phase)
	if p.Status.Reason != "" {
		s += ", " + p.Status.Reason
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return s + ", " + cs.Name + ": " + w.Reason
		}
	}
	return s
}

// containerID is the runtime's id of the running container name of pod p.
func containerID(p *corev1.Pod, name string) (string, error) {
	var names []string
	all := append(append(append([]corev1.ContainerStatus{}, p.Status.ContainerStatuses...), p.Status.InitContainerStatuses...), p.Status.EphemeralContainerStatuses...)
	for _, cs := range all {
		names = append(names, cs.Name)
		if cs.Name != name {
			continue
		}
		if cs.State.Running == nil || cs.ContainerID == "" {
			return "", fmt.Errorf("container %s of pod %s is not running (%s); without -c the capture follows the whole pod, restarts included", name, p.Name, containerState(cs))
		}
		_, id, ok := strings.Cut(cs.ContainerID, "://")
		if !ok {
			id = cs.ContainerID
		}
		return id, nil
	}
	return "", fmt.Errorf("pod %s has no container %s; its containers: %s", p.Name, name, strings.Join(names, ", "))
}

func containerState(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return "waiting: " + cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return "terminated: " + cs.State.Terminated.Reason
	}
	return "not started"
}

// podNotFound explains a missing pod: a missing namespace, the same name in
// another namespace, or the nearest names in this one.
func podNotFound(ctx context.Context, c kubernetes.Interface, ns, name string) error {
	if err := checkNamespace(ctx, c, ns); err != nil {
		return err
	}
	msg := fmt.Sprintf("pod %s not found in namespace %s", name, ns)
	if all, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name}); err == nil {
		var nss []string
		for _, p := range all.Items {
			if p.Name == name && p.Namespace != ns {
				nss = append(nss, p.Namespace)
			}
		}
		if len(nss) > 0 {
			return fmt.Errorf("%s, but it exists in namespace %s: add -n %s", msg, strings.Join(nss, ", "), nss[0])
		}
	}
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("%s (list them with: kubectl get pods -n %s)", msg, ns)
	}
	var names []string
	for _, p := range list.Items {
		if p.Labels[LabelManagedBy] != ManagedBy {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: the namespace has no pods", msg)
	}
	return fmt.Errorf("%s; nearest names: %s", msg, strings.Join(nearest(name, names, 3), ", "))
}

// checkNamespace returns an error naming the nearest namespaces when ns does
// not exist, nil when it exists or cannot be checked.
func checkNamespace(ctx context.Context, c kubernetes.Interface, ns string) error {
	_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return nil
	}
	msg := fmt.Sprintf("namespace %s not found", ns)
	list, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) == 0 {
		return fmt.Errorf("%s (list them with: kubectl get namespaces)", msg)
	}
	var names []string
	for _, n := range list.Items {
		names = append(names, n.Name)
	}
	return fmt.Errorf("%s; nearest namespaces: %s (give it with -n)", msg, strings.Join(nearest(ns, names, 3), ", "))
}

// nearest returns up to n of names closest to want: those that start with
// it or it starts with (a deployment's name for one of its pods) first, then
// by edit distance.
func nearest(want string, names []string, n int) []string {
	type cand struct {
		name   string
		prefix bool
		dist   int
	}
	var cs []cand
	for _, s := range names {
		cs = append(cs, cand{s, strings.HasPrefix(s, want) || strings.HasPrefix(want, s), editDistance(want, s)})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].prefix != cs[j].prefix {
			return cs[i].prefix
		}
		if cs[i].dist != cs[j].dist {
			return cs[i].dist < cs[j].dist
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// apiError words an API error with what was being done, and the fix for the
// usual ones.
func apiError(err error, doing string) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %v (ask for that right, or use a context that has it: --context)", doing, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: the API server did not accept your credentials (%v): log in again, or check --kubeconfig/--context", doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

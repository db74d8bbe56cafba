package kubecapture

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// errStartTimeout is returned, wrapped, when the capture pod does not run in time.
var errStartTimeout = errors.New("the capture pod did not start in time")

// waitRunning watches the capture pod until its container runs, and explains
// why when it never will (image not pullable, evicted, refused by the
// kubelet, deleted) or when it takes longer than timeout.
func waitRunning(ctx context.Context, c kubernetes.Interface, ns, name, image string, timeout time.Duration) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = sel
			return c.CoreV1().Pods(ns).List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = sel
			return c.CoreV1().Pods(ns).Watch(ctx, opts)
		},
	}
	var last *corev1.Pod
	_, err := watchtools.UntilWithSync(tctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || p.Name != name {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("the capture pod %s/%s was deleted while it started (by someone else, or by a controller)", ns, name)
		}
		last = p
		return podStarted(p, image)
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if tctx.Err() != nil || wait.Interrupted(err) {
		status := "not created yet"
		if last != nil {
			status = describePhase(last)
		}
		msg := fmt.Sprintf("%v: after %v the capture pod %s/%s is still %s", errStartTimeout, timeout, ns, name, status)
		if ev := podEvents(ctx, c, ns, name); ev != "" {
			msg += "\nits events:\n" + ev
		}
		return errors.New(msg + "\n(a slow image pull? raise --start-timeout)")
	}
	return err
}

// podStarted is the condition of waitRunning: true once the container runs,
// an error once it cannot.
func podStarted(p *corev1.Pod, image string) (bool, error) {
	switch p.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		return false, podEnded(p)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running != nil {
			return true, nil
		}
		if t := cs.State.Terminated; t != nil {
			return false, podEnded(p)
		}
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "ImageInspectError":
			return false, imageError(p, image, w)
		case "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff", "PreCreateHookError", "PreStartHookError":
			return false, fmt.Errorf("the capture pod %s/%s on node %s cannot start its container: %s: %s", p.Namespace, p.Name, p.Spec.NodeName, w.Reason, w.Message)
		}
	}
	return false, nil
}

// imageError explains an image that cannot be pulled.
func imageError(p *corev1.Pod, image string, w *corev1.ContainerStateWaiting) error {
	fix := "give an image the node can pull with --image (a syscope image in your registry)"
	if image == DefaultImage {
		fix = fmt.Sprintf("%s is built locally and is in no registry: build it with `make image` (bin/syscope-image.tar) and load it on the node "+
			"(containerd: ctr -n k8s.io images import bin/syscope-image.tar; docker: docker load -i bin/syscope-image.tar), "+
			"or push it to a registry the node can reach and pass --image REGISTRY/syscope:TAG", DefaultImage)
	}
	return fmt.Errorf("node %s cannot get the capture image %s (%s: %s)\nFix: %s", p.Spec.NodeName, image, w.Reason, strings.TrimSpace(w.Message), fix)
}

// podEnded explains a capture pod that has stopped: evicted, past its
// deadline, refused by the kubelet, or its process failed.
func podEnded(p *corev1.Pod) error {
	where := fmt.Sprintf("the capture pod %s/%s on node %s", p.Namespace, p.Name, p.Spec.NodeName)
	switch p.Status.Reason {
	case "Evicted":
		return fmt.Errorf("%s was evicted: %s\n(the node is short of memory or disk; free some, or capture for less time or with a smaller --snaplen)", where, p.Status.Message)
	case "DeadlineExceeded":
		return fmt.Errorf("%s reached its deadline (activeDeadlineSeconds) and was stopped: %s", where, p.Status.Message)
	case "":
	default:
		msg := fmt.Sprintf("%s was refused or stopped by the node: %s: %s", where, p.Status.Reason, p.Status.Message)
		if strings.HasPrefix(p.Status.Reason, "OutOf") {
			msg += "\n(the node has not enough free resources for the capture pod's requests: 100m CPU, 128Mi memory)"
		}
		return errors.New(msg)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			msg := strings.TrimSpace(t.Message)
			hint := ""
			switch {
			case t.Reason == "OOMKilled":
				hint = "\n(the capture ran out of memory: capture for less time, or with a filter or a smaller --snaplen)"
			case t.Reason == "StartError" || strings.Contains(msg, "no such file") || strings.Contains(msg, "executable file not found"):
				hint = fmt.Sprintf("\n(is %s a syscope image? kubectl capture runs %s in it; build one with `make image`)", cs.Image, syscopePath)
			}
			return fmt.Errorf("%s stopped: its container exited with code %d (%s) %s%s", where, t.ExitCode, t.Reason, msg, hint)
		}
	}
	return fmt.Errorf("%s ended (%s)", where, describePhase(p))
}

// podEvents lists the events of a pod, oldest first, one per line.
func podEvents(ctx context.Context, c kubernetes.Interface, ns, name string) string {
	list, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String()})
	if err != nil || len(list.Items) == 0 {
		return ""
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].LastTimestamp.Before(&list.Items[j].LastTimestamp) })
	var b strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&b, "  %s %s: %s\n", e.Type, e.Reason, e.Message)
	}
	return strings.TrimRight(b.String(), "\n")
}

// explainBroken says what happened to the capture pod when its exec session
// broke: ended, evicted, deleted, or nothing visible.
func explainBroken(ctx context.Context, c kubernetes.Interface, ns, name string, cause error) error {
	p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("the capture pod %s/%s disappeared during the capture (deleted by someone else?): %v", ns, name, cause)
	case err == nil && p.DeletionTimestamp != nil:
		return fmt.Errorf("the capture pod %s/%s was deleted during the capture: %v", ns, name, cause)
	case err == nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded):
		return fmt.Errorf("%v (the capture was cut: %v)", podEnded(p), cause)
	}
	return fmt.Errorf("the connection to the capture pod %s/%s broke: %v", ns, name, cause)
}

package kubecapture

import (
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of capture pods.
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedBy       = "kubectl-capture"
	LabelName       = "app.kubernetes.io/name"
	LabelComponent  = "app.kubernetes.io/component"
	LabelTargetNS   = "capture.syscope.dev/target-namespace"
	LabelTargetPod  = "capture.syscope.dev/target-pod"
	LabelNode       = "capture.syscope.dev/node"
	AnnotTargets    = "capture.syscope.dev/targets"
	AnnotCommand    = "capture.syscope.dev/command"
	containerName   = "syscope"
	syscopePath     = "/syscope"
	startupSlackSec = 300 // activeDeadlineSeconds beyond start timeout + duration
)

// nodeCapture is what one capture pod does: capture on Node the pods
// Targets (all of the node with WholeNode).
type nodeCapture struct {
	Node    string
	Targets []*corev1.Pod
	// Containers restrict the capture to these container ids (with -c);
	// otherwise it is the targets' pod cgroups.
	Containers []string
	Name       string // the capture pod's name, once created
	Namespace  string // the capture pod's namespace
}

// syscopeCommand is the capture command run in the capture pod: the capture
// gzip-compressed on standard output, the driver's counters on standard error.
func syscopeCommand(o *Options, nc *nodeCapture) []string {
	cmd := []string{syscopePath, "-w", "-", "-z", "-M", strconv.Itoa(o.Duration), "-v", "--progress-json"}
	if o.Snaplen > 0 {
		cmd = append(cmd, "-s", strconv.Itoa(o.Snaplen))
	}
	if !o.WholeNode {
		// Only the targets' processes in the file's process table too.
		cmd = append(cmd, "--trim-proclist")
		if len(nc.Containers) > 0 {
			for _, id := range nc.Containers {
				cmd = append(cmd, "--container", id)
			}
		} else {
			for _, p := range nc.Targets {
				cmd = append(cmd, "--pod-uid", string(p.UID))
			}
		}
	}
	cmd = append(cmd, o.SyscopeArgs...)
	if o.Filter != "" {
		cmd = append(cmd, "--", o.Filter)
	}
	return cmd
}

var labelValueBad = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// labelValue makes s a valid label value: at most 63 characters of
// [A-Za-z0-9._-], starting and ending with an alphanumeric.
func labelValue(s string) string {
	s = labelValueBad.ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-._")
}

// podName is the capture pod's name prefix (the server adds 5 characters):
// capture-<target>-, kept short enough for a hostname label.
func podNamePrefix(target string) string {
	t := labelValue(strings.ToLower(target))
	if len(t) > 46 {
		t = strings.TrimRight(t[:46], "-.")
	}
	if t == "" {
		t = "node"
	}
	return "capture-" + t + "-"
}

// capturePod is the pod that captures on nc.Node: privileged, in the host's
// PID namespace (its /proc is the node's), with the node's cgroup hierarchy
// (to find the target pods' cgroups and filter on them in the kernel) and
// the node's /run (where the container runtimes' sockets are, for container
// metadata), pinned to the node, tolerating every taint, ended by the kubelet
// after a deadline if the plugin disappears. Its main process only waits:
// the capture is exec'ed into it, so that the file streams back through the
// exec session.
func capturePod(o *Options, nc *nodeCapture, ns string) *corev1.Pod {
	target := nc.Node
	if !o.WholeNode && len(nc.Targets) == 1 {
		target = nc.Targets[0].Name
	}
	labels := map[string]string{
		LabelManagedBy: ManagedBy,
		LabelName:      "syscope",
		LabelComponent: "capture",
		LabelNode:      labelValue(nc.Node),
	}
	var targets []string
	for _, p := range nc.Targets {
		targets = append(targets, p.Namespace+"/"+p.Name)
	}
	if len(nc.Targets) > 0 {
		labels[LabelTargetNS] = labelValue(nc.Targets[0].Namespace)
	}
	if len(nc.Targets) == 1 {
		labels[LabelTargetPod] = labelValue(nc.Targets[0].Name)
	}
	yes, no := true, false
	deadline := int64(o.StartTimeout.Seconds()) + int64(o.Duration) + startupSlackSec
	grace := int64(2)
	hostPathDir := corev1.HostPathDirectory
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: podNamePrefix(target),
			Namespace:    ns,
			Labels:       labels,
			Annotations: map[string]string{
				AnnotTargets: strings.Join(targets, ","),
				AnnotCommand: strings.Join(syscopeCommand(o, nc), " "),
			},
		},
		Spec: corev1.PodSpec{
			NodeName:                      nc.Node,
			HostPID:                       true,
			HostNetwork:                   true, // no dependency on the pod network; the host's interfaces in the file
			DNSPolicy:                     corev1.DNSClusterFirstWithHostNet,
			RestartPolicy:                 corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:         &deadline,
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:                     containerName,
				Image:                    o.Image,
				ImagePullPolicy:          corev1.PullIfNotPresent,
				Command:                  []string{syscopePath, "--idle"},
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				SecurityContext:          &corev1.SecurityContext{Privileged: &yes},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("100m"),
						corev1.ResourceMemory: resource.MustParse("128Mi"),
					},
					Limits: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("1"),
						corev1.ResourceMemory: resource.MustParse("1Gi"),
					},
				},
				VolumeMounts: []corev1.VolumeMount{
					// Replaces the container's own view of the cgroups.
					{Name: "cgroup", MountPath: "/sys/fs/cgroup", ReadOnly: true},
					{Name: "run", MountPath: "/run", ReadOnly: true},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "cgroup", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/sys/fs/cgroup", Type: &hostPathDir}}},
				{Name: "run", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run", Type: &hostPathDir}}},
			},
		},
	}
}

package labenv

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLabAnswers checks that each part of the lab answers: the node is Ready,
// dockerd and containerd reply, and the registry-free images are in place.
func TestLabAnswers(t *testing.T) {
	NeedLab(t)

	ready := Kubectl(t, "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}{"\n"}{end}`)
	fields := strings.Fields(ready)
	if len(fields) != 4 || fields[1] != "True" || fields[2] != "v1.34.4" || !strings.HasPrefix(fields[3], "containerd://") {
		t.Errorf("want one Ready node, kubelet v1.34.4 on containerd; got %q", ready)
	}

	if v := strings.TrimSpace(Docker(t, "info", "--format", "{{.ServerVersion}}")); v == "" {
		t.Errorf("docker info: no server version")
	}
	if v := Ctr(t, "k8s.io", "version"); !strings.Contains(v, "Server:") {
		t.Errorf("ctr version: no server part in %q", v)
	}

	k8sImages := Ctr(t, "k8s.io", "images", "ls", "-q")
	for _, img := range []string{PauseImage, BusyboxImage} {
		if !strings.Contains(k8sImages, img+"\n") {
			t.Errorf("image %s missing from containerd namespace k8s.io:\n%s", img, k8sImages)
		}
	}
	Docker(t, "image", "inspect", BusyboxImage)
}

// TestPodRuns runs a busybox pod through the kubelet, containerd's CRI and the
// CNI bridge, and checks from inside it that it is in its pod's cgroup and has
// a pod address.
func TestPodRuns(t *testing.T) {
	NeedLab(t)
	ns := fmt.Sprintf("labenv-%d", os.Getpid())
	Kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { Kubectl(t, "delete", "namespace", ns, "--wait=false") })

	// The controller manager creates the namespace's service account, which
	// pods need, a moment after the namespace.
	deadline := time.Now().Add(30 * time.Second)
	for Command("kubectl", "-n", ns, "get", "serviceaccount", "default").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no service account default in namespace %s after 30 s", ns)
		}
		time.Sleep(200 * time.Millisecond)
	}

	Kubectl(t, "-n", ns, "run", "probe", "--image="+BusyboxImage, "--image-pull-policy=Never",
		"--restart=Never", `--overrides={"spec":{"terminationGracePeriodSeconds":0}}`, "--", "sleep", "3600")
	Kubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/probe", "--timeout=60s")

	uid := Kubectl(t, "-n", ns, "get", "pod", "probe", "-o", "jsonpath={.metadata.uid}")
	cgroup := Kubectl(t, "-n", ns, "exec", "probe", "--", "cat", "/proc/self/cgroup")
	if !strings.Contains(cgroup, "/kubepods/") || !strings.Contains(cgroup, uid) {
		t.Errorf("pod %s: /proc/self/cgroup does not name /kubepods/ and the pod:\n%s", uid, cgroup)
	}
	if ip := Kubectl(t, "-n", ns, "get", "pod", "probe", "-o", "jsonpath={.status.podIP}"); !strings.HasPrefix(ip, "10.244.0.") {
		t.Errorf("pod IP %q is not in the lab's pod network 10.244.0.0/24", ip)
	}
}

// Package labenv lets tests use the project's runtime + Kubernetes lab
// (test/lab/k8s/lab.sh, `make lab-up`): a single-node Kubernetes v1.34.4 on
// containerd's CRI, a dockerd on the same containerd, and registry-free images
// (PauseImage, BusyboxImage, and SyscopeImage when `make image` was run).
//
// A test calls NeedLab first: it skips unless the test runs as root and the
// lab answers, or fails instead when SYSCOPE_LAB=1 (CI brings the lab up and
// sets it, so a lab that does not come up is an error there, not a skip).
// Then Kubectl, Docker and Ctr run the lab's clients and return their output.
//
// The lab's directory is $LAB_DIR, default /var/tmp/syscope-lab, as for lab.sh.
package labenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The lab's images, present in containerd's k8s.io namespace (what pods use)
// and in docker. Pods must set imagePullPolicy: Never: there is no registry.
const (
	PauseImage   = "registry.k8s.io/pause:3.10"
	BusyboxImage = "docker.io/library/busybox:local"
	// SyscopeImage is there only when bin/syscope-image.tar existed at lab-up.
	SyscopeImage = "docker.io/syscope/syscope:dev"
)

// The lab's sockets.
const (
	ContainerdSocket = "/run/containerd/containerd.sock"
	DockerSocket     = "/run/docker.sock"
)

// EnvRequired is the environment variable that makes NeedLab fail instead of skip.
const EnvRequired = "SYSCOPE_LAB"

// Dir is the lab's directory: $LAB_DIR, or /var/tmp/syscope-lab.
func Dir() string {
	if d := os.Getenv("LAB_DIR"); d != "" {
		return d
	}
	return "/var/tmp/syscope-lab"
}

// KubectlPath is the kubectl that lab-up built ($LAB_DIR/kbuild/bin/kubectl),
// the same version as the cluster.
func KubectlPath() string { return filepath.Join(Dir(), "kbuild", "bin", "kubectl") }

// Kubeconfig is the cluster admin's kubeconfig ($LAB_DIR/pki/admin.kubeconfig).
func Kubeconfig() string { return filepath.Join(Dir(), "pki", "admin.kubeconfig") }

// Required reports whether SYSCOPE_LAB=1, that is whether a missing lab is an
// error rather than a reason to skip.
func Required() bool { return os.Getenv(EnvRequired) == "1" }

// Check says why the lab cannot be used by this process (nil when it can): not
// root, kubectl or the kubeconfig missing, or one of the lab's endpoints not
// answering (containerd, dockerd, kube-apiserver on 127.0.0.1:6443, the
// kubelet on 127.0.0.1:10250). It only dials; it does not run kubectl.
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root")
	}
	for _, f := range []string{KubectlPath(), Kubeconfig()} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("lab not set up: %v", err)
		}
	}
	for _, ep := range []struct{ network, addr, what string }{
		{"unix", ContainerdSocket, "containerd"},
		{"unix", DockerSocket, "dockerd"},
		{"tcp", "127.0.0.1:6443", "kube-apiserver"},
		{"tcp", "127.0.0.1:10250", "kubelet"},
	} {
		c, err := net.DialTimeout(ep.network, ep.addr, 2*time.Second)
		if err != nil {
			return fmt.Errorf("%s does not answer: %v", ep.what, err)
		}
		c.Close()
	}
	return nil
}

// NeedLab skips t unless it runs as root and the lab is up. With SYSCOPE_LAB=1
// it fails t instead.
func NeedLab(t testing.TB) {
	t.Helper()
	err := Check()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("the runtime + Kubernetes lab is not usable here (%v); as root, `make lab-up` brings it up", err)
	if Required() {
		t.Fatalf("%s=1 but %s", EnvRequired, msg)
	}
	t.Skip(msg)
}

// Kubectl runs the lab's kubectl as the cluster admin and returns its standard
// output; it fails t (with kubectl's standard error) when kubectl fails.
func Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, Command("kubectl", args...))
}

// Docker runs the docker client against the lab's dockerd and returns its
// standard output; it fails t when docker fails.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, Command("docker", args...))
}

// Ctr runs ctr in containerd namespace ns ("k8s.io" holds the kubelet's pods,
// "default" is ctr's own) and returns its standard output; it fails t when ctr
// fails.
func Ctr(t testing.TB, ns string, args ...string) string {
	t.Helper()
	return run(t, Command("ctr", append([]string{"--namespace", ns}, args...)...))
}

// Command returns the command line of one of the lab's clients, "kubectl",
// "docker" or "ctr", with the lab's kubeconfig or socket already in it, for
// what Kubectl, Docker and Ctr do not cover: standard input, a context, a
// command that is expected to fail.
func Command(client string, args ...string) *exec.Cmd {
	switch client {
	case "kubectl":
		return exec.Command(KubectlPath(), append([]string{"--kubeconfig", Kubeconfig()}, args...)...)
	case "docker":
		return exec.Command("docker", append([]string{"--host", "unix://" + DockerSocket}, args...)...)
	case "ctr":
		return exec.Command("ctr", append([]string{"--address", ContainerdSocket}, args...)...)
	}
	panic("labenv.Command: unknown client " + client)
}

func run(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return string(out)
}

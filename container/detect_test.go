package container

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// listen makes a unix socket at root/path.
func listen(t *testing.T, root, path string) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
}

func TestDetect(t *testing.T) {
	root := t.TempDir()
	listen(t, root, "run/containerd/containerd.sock")
	listen(t, root, "run/crio/crio.sock")
	listen(t, root, "var/run/docker.sock")
	// Not a socket: ignored.
	if err := os.MkdirAll(filepath.Join(root, "run/podman"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "run/podman/podman.sock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same socket by two paths: listed once.
	if err := os.Symlink(filepath.Join(root, "run/containerd"), filepath.Join(root, "run/k0s")); err != nil {
		t.Fatal(err)
	}
	at := func(p string) string { return filepath.Join(root, p) }
	elsewhere := t.TempDir()
	listen(t, elsewhere, "my.sock")
	tests := []struct {
		name string
		opts []DetectOption
		want []Endpoint
	}{
		{"defaults", nil, []Endpoint{
			{Kind: KindDocker, Socket: at("var/run/docker.sock")},
			{Kind: KindCRI, Socket: at("run/containerd/containerd.sock")},
			{Kind: KindCRI, Socket: at("run/crio/crio.sock")},
			{Kind: KindContainerd, Socket: at("run/containerd/containerd.sock")},
		}},
		{"explicit CRI socket, absent", []DetectOption{WithCRISocket("/nonexistent/crio.sock")}, []Endpoint{
			{Kind: KindDocker, Socket: at("var/run/docker.sock")},
			{Kind: KindCRI, Socket: "/nonexistent/crio.sock", Explicit: true},
		}},
		{"explicit CRI socket of containerd", []DetectOption{WithCRISocket(at("run/containerd/containerd.sock"))}, []Endpoint{
			{Kind: KindDocker, Socket: at("var/run/docker.sock")},
			{Kind: KindCRI, Socket: at("run/containerd/containerd.sock"), Explicit: true},
			{Kind: KindContainerd, Socket: at("run/containerd/containerd.sock"), Explicit: true},
		}},
		{"explicit docker socket", []DetectOption{WithDockerSocket(filepath.Join(elsewhere, "my.sock")), WithCRISocket()}, []Endpoint{
			{Kind: KindDocker, Socket: filepath.Join(elsewhere, "my.sock"), Explicit: true},
		}},
		{"explicit podman socket", []DetectOption{WithPodmanSocket(filepath.Join(elsewhere, "my.sock")), WithDockerSocket(), WithCRISocket()}, []Endpoint{
			{Kind: KindPodman, Socket: filepath.Join(elsewhere, "my.sock"), Explicit: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Detect(append([]DetectOption{withoutEnv(), WithHostRoot(root)}, tt.opts...)...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Detect =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

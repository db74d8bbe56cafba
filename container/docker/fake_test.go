package docker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/syscope/syscope/container"
)

// fakeAPI serves canned answers on a unix socket.
func fakeAPI(t *testing.T, routes map[string]string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := routes[r.URL.RequestURI()]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"no such thing"}`)
			return
		}
		fmt.Fprint(w, body)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

const podmanID = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestFakeAPIs(t *testing.T) {
	tests := []struct {
		name   string
		routes map[string]string
		opts   []Option
		check  func(*container.Info) string
	}{
		{"podman names its image", map[string]string{
			"/containers/" + podmanID[:12] + "/json": `{"Id":"` + podmanID + `","Name":"web","Image":"docker.io/library/nginx:1.25",` +
				`"Config":{"Image":"docker.io/library/nginx:1.25","Labels":{"podman_owner_uid":"5"}},"HostConfig":{"Privileged":true},` +
				`"NetworkSettings":{"IPAddress":"10.88.0.2","Ports":{"80/tcp":[{"HostIp":"","HostPort":"8080"}],"53/udp":[{"HostIp":"","HostPort":"53"}]}}}`,
			"/images/json?digests=1": `[{"Id":"sha256:abc","Names":["docker.io/library/nginx:1.25"],"Digest":"sha256:def","RepoTags":["docker.io/library/nginx:1.25"]}]`,
		}, []Option{WithPodman()}, func(x *container.Info) string {
			if x.Type != container.TypePodman || x.ImageID != "abc" || x.ImageDigest != "sha256:def" || x.ImageRepo != "docker.io/library/nginx" ||
				x.ImageTag != "1.25" || !x.Privileged || x.IP.String() != "10.88.0.2" || len(x.Labels) != 0 ||
				len(x.PortMappings) != 1 || x.PortMappings[0].HostPort != 8080 || x.PortMappings[0].ContainerPort != 80 {
				return "wrong"
			}
			return ""
		}},
		{"rootless podman owner", map[string]string{
			"/containers/" + podmanID[:12] + "/json": `{"Id":"` + podmanID + `","Image":"quay.io/x/y","Config":{"Image":"quay.io/x/y"}}`,
			"/images/json?digests=1":                 `[{"Id":"sha256:abc"}]`,
		}, []Option{WithPodman(), WithOwnerUID(1000)}, func(x *container.Info) string {
			if x.Labels["podman_owner_uid"] != "1000" || x.ImageTag != "latest" || x.ImageID != "" {
				return "wrong"
			}
			return ""
		}},
		{"docker run by image id", map[string]string{
			"/containers/" + podmanID[:12] + "/json": `{"Id":"` + podmanID + `","Name":"/k8s_POD_x","Image":"sha256:0123456789ab",` +
				`"Config":{"Image":"0123456789ab"},"HostConfig":{"CpuShares":0,"CpuPeriod":0,"CpusetCpus":"0-3,8"},` +
				`"Created":"2024-01-02T03:04:05.999999999Z"}`,
			"/images/0123456789ab/json?digests=1": `{"RepoTags":["redis:7"],"RepoDigests":["redis@sha256:aa"]}`,
		}, nil, func(x *container.Info) string {
			if x.Type != container.TypeDocker || !x.IsPodSandbox || x.Name != "k8s_POD_x" || x.ImageRepo != "redis" || x.ImageTag != "7" ||
				x.ImageDigest != "sha256:aa" || x.CPUShares != 1024 || x.CPUPeriod != 100000 || x.CPUSetCount != 5 ||
				x.CreatedTime != time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Unix() {
				return "wrong"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(fakeAPI(t, tt.routes), tt.opts...)
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			x, err := c.Lookup(ctx, podmanID[:12])
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(x); msg != "" {
				t.Errorf("%s: %s", msg, x.JSON())
			}
		})
	}
}

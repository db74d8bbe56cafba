package container

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestJSON(t *testing.T) {
	full := NewInfo("3f2a9c1b7d4e", TypeContainerd)
	full.FullID = hexID
	full.Name = "web"
	full.Image = "docker.io/library/busybox:local"
	full.ImageRepo, full.ImageTag, full.ImageDigest = SplitImage(full.Image)
	full.ImageID = "b81cfb82d05a"
	full.Privileged = true
	full.IP = netip.MustParseAddr("10.1.2.3")
	full.Mounts = []Mount{{Source: "/src", Dest: "/dst", Mode: "z", RW: true, Propagation: "rprivate"}}
	full.PortMappings = []PortMapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80}}
	full.Labels = map[string]string{"io.kubernetes.pod.name": "p", "b": "x\"y\\z\n\x01é<"}
	full.Env = []string{"PATH=/bin", "MESOS_TASK_ID=a.b", "MARATHON_APP_ID=/x"}
	full.MesosTaskID = "a.b"
	full.MemoryLimit, full.SwapLimit, full.CPUQuota, full.CPUSetCount = 1<<20, 2<<20, 50000, 2
	full.Probes = []Probe{{Type: ProbeHealth, Exe: "/bin/true"}, {Type: ProbeLiveness, Exe: "cat", Args: []string{"/ok"}}}
	full.CreatedTime = 1700000000
	full.Ext = Ext{Source: "containerd", Namespace: "default", Cgroups: []string{"/default/web"}, Pid: 42,
		Pod: &Pod{Name: "p", Namespace: "ns", UID: "u", IP: "fd00::1", Labels: map[string]string{"app": "a"}}}

	tests := []struct {
		name string
		x    *Info
		want string
	}{
		{"defaults", NewInfo("abc", TypeDocker),
			`{"container":{"Mounts":[],"cpu_period":100000,"cpu_quota":0,"cpu_shares":1024,"cpuset_cpu_count":0,` +
				`"created_time":0,"env":[],"full_id":"","id":"abc","image":"","imagedigest":"","imageid":"","imagerepo":"",` +
				`"imagetag":"","ip":"0.0.0.0","is_pod_sandbox":false,"labels":null,"lookup_state":1,"memory_limit":0,` +
				`"metadata_deadline":0,"name":"","port_mappings":[],"privileged":false,"swap_limit":0,"type":0}}` + "\n"},
		{"full", full,
			`{"container":{"Healthcheck":{"args":null,"exe":"/bin/true"},"LivenessProbe":{"args":["/ok"],"exe":"cat"},` +
				`"Mounts":[{"Destination":"/dst","Mode":"z","Propagation":"rprivate","RW":true,"Source":"/src"}],` +
				`"cpu_period":100000,"cpu_quota":50000,"cpu_shares":1024,"cpuset_cpu_count":2,"created_time":1700000000,` +
				`"env":["MESOS_TASK_ID=a.b","MARATHON_APP_ID=/x"],"full_id":"` + hexID + `","id":"3f2a9c1b7d4e",` +
				`"image":"docker.io/library/busybox:local","imagedigest":"","imageid":"b81cfb82d05a",` +
				`"imagerepo":"docker.io/library/busybox","imagetag":"local","ip":"10.1.2.3","is_pod_sandbox":false,` +
				`"labels":{"b":"x\"y\\z\n\u0001é<","io.kubernetes.pod.name":"p"},"lookup_state":1,"memory_limit":1048576,` +
				`"mesos_task_id":"a.b","metadata_deadline":0,"name":"web",` +
				`"port_mappings":[{"ContainerPort":80,"HostIp":2130706433,"HostPort":8080}],"privileged":true,` +
				`"swap_limit":2097152,` +
				`"syscope":{"cgroups":["/default/web"],"namespace":"default","pid":42,` +
				`"pod":{"ip":"fd00::1","labels":{"app":"a"},"name":"p","namespace":"ns","uid":"u"},"source":"containerd"},` +
				`"type":7}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.x.JSON())
			if got != tt.want {
				t.Errorf("JSON:\n got %s\nwant %s", got, tt.want)
			}
			back, err := ParseJSON(append([]byte(got), 0))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.x.Clone()
			// The JSON keeps only the Mesos variables of the environment.
			var env []string
			for _, v := range want.Env {
				if v != "PATH=/bin" {
					env = append(env, v)
				}
			}
			want.Env = env
			if want.Env == nil {
				want.Env = []string{}
			}
			if want.Mounts == nil {
				want.Mounts = nil
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("ParseJSON(JSON()) =\n %#v\nwant\n %#v", back, want)
			}
		})
	}
}

func TestParseJSONSysdig(t *testing.T) {
	// As written by an older sysdig (bencer_example0_nginx.scap).
	in := "{\"container\":{\"Mounts\":[],\"id\":\"f1aaeb3ab367\",\"image\":\"nginx:latest\",\"ip\":\"0.0.0.0\",\"name\":\"example0_nginx_1\",\"privileged\":false,\"type\":0}}\n\x00"
	x, err := ParseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if x.ID != "f1aaeb3ab367" || x.Type != TypeDocker || x.Name != "example0_nginx_1" || x.Image != "nginx:latest" ||
		x.LookupState != LookupSuccessful || x.IP.IsValid() {
		t.Errorf("ParseJSON = %+v", x)
	}
	for _, bad := range []string{`{"container":{}}`, `{"container":{"id":""}}`, `nope`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%s): no error", bad)
		}
	}
}

func TestSplitImage(t *testing.T) {
	for _, c := range []struct{ in, repo, tag, digest string }{
		{"busybox", "busybox", "", ""},
		{"busybox:local", "busybox", "local", ""},
		{"docker.io/library/busybox:local", "docker.io/library/busybox", "local", ""},
		{"localhost:5000/app:1.2", "localhost:5000/app", "1.2", ""},
		{"quay.io/x/y@sha256:abcd", "quay.io/x/y", "", "sha256:abcd"},
		{"quay.io/x/y:t@sha256:abcd", "quay.io/x/y", "t", "sha256:abcd"},
		{"sha256:b81cfb82d05a", "sha256", "b81cfb82d05a", ""},
	} {
		repo, tag, digest := SplitImage(c.in)
		if repo != c.repo || tag != c.tag || digest != c.digest {
			t.Errorf("SplitImage(%q) = %q %q %q, want %q %q %q", c.in, repo, tag, digest, c.repo, c.tag, c.digest)
		}
	}
}

func TestCPUSetCount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int32
	}{
		{"0", 1}, {"0-3", 4}, {"0-3,7", 5}, {"1,3,5", 3}, {"3-1", -1}, {"1-1", -1}, {"0-3,", -1}, {"-1", -1},
		{"1--2", -1}, {"a", -1}, {"", -1}, {" 2", 1},
	} {
		if got := CPUSetCount(c.in); got != c.want {
			t.Errorf("CPUSetCount(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

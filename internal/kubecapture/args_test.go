package kubecapture

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *Options)
	}{
		{"the seed's command", strings.Fields("ticket-balancer-5967c66fb4-qnzj6 -ns ticket-generator -M 30 --snaplen 256"), func(t *testing.T, o *Options) {
			if o.Pod != "ticket-balancer-5967c66fb4-qnzj6" || o.Namespace != "ticket-generator" || o.Duration != 30 || o.Snaplen != 256 {
				t.Errorf("got pod %q ns %q -M %d snaplen %d", o.Pod, o.Namespace, o.Duration, o.Snaplen)
			}
			if len(o.SyscopeArgs) != 0 || o.Filter != "" || len(o.Warnings) != 0 {
				t.Errorf("unexpected extras: %q %q %q", o.SyscopeArgs, o.Filter, o.Warnings)
			}
		}},
		{"--ebpf, -n, attached values", strings.Fields("-n ns1 --ebpf web-0 -M10 -s256"), func(t *testing.T, o *Options) {
			if o.Pod != "web-0" || o.Namespace != "ns1" || o.Duration != 10 || o.Snaplen != 256 {
				t.Errorf("got %+v", o)
			}
		}},
		{"-nNS and --namespace=", []string{"-nfoo", "p", "--namespace=bar"}, func(t *testing.T, o *Options) {
			if o.Namespace != "bar" || o.Pod != "p" {
				t.Errorf("got ns %q pod %q", o.Namespace, o.Pod)
			}
		}},
		{"pod/NAME, defaults", []string{"pod/web-0"}, func(t *testing.T, o *Options) {
			if o.Pod != "web-0" || o.Duration != defaultDuration || o.Image != DefaultImage || o.OutputDir != "." {
				t.Errorf("got %+v", o)
			}
		}},
		{"filter words and syscope options", []string{"web-0", "--comm", "nginx", "evt.type=read", "and", "fd.num>2", "--numevents", "100", "-F"}, func(t *testing.T, o *Options) {
			if o.Filter != "evt.type=read and fd.num>2" {
				t.Errorf("filter %q", o.Filter)
			}
			if want := []string{"--comm", "nginx", "--numevents", "100", "-F"}; !slices.Equal(o.SyscopeArgs, want) {
				t.Errorf("syscope args %q, want %q", o.SyscopeArgs, want)
			}
		}},
		{"-- ends the options", []string{"web-0", "--", "-x"}, nil},
		{"selector, merge, node, image, output", []string{"-l", "app=web", "--merge", "--node", "--image", "r/s:1", "-o", "/tmp/x", "proc.name=nginx"}, func(t *testing.T, o *Options) {
			if o.Selector != "app=web" || !o.Merge || !o.WholeNode || o.Image != "r/s:1" || o.OutputDir != "/tmp/x" || o.Pod != "" || o.Filter != "proc.name=nginx" {
				t.Errorf("got %+v", o)
			}
		}},
		{"kubeconfig flags, long forms", []string{"--kubeconfig", "/k", "--context=c1", "--insecure-skip-tls-verify", "web-0"}, func(t *testing.T, o *Options) {
			if *o.Kube.KubeConfig != "/k" || *o.Kube.Context != "c1" || !*o.Kube.Insecure || o.Pod != "web-0" {
				t.Errorf("kube flags %q %q %v, pod %q", *o.Kube.KubeConfig, *o.Kube.Context, *o.Kube.Insecure, o.Pod)
			}
		}},
		{"printing options are ignored with a warning", strings.Fields("web-0 -pk -A -z -S"), func(t *testing.T, o *Options) {
			if len(o.Warnings) != 4 || len(o.SyscopeArgs) != 0 {
				t.Errorf("warnings %q, args %q", o.Warnings, o.SyscopeArgs)
			}
		}},
		{"-c is the container", strings.Fields("web-0 -c nginx"), func(t *testing.T, o *Options) {
			if o.Container != "nginx" {
				t.Errorf("container %q", o.Container)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if tt.name == "-- ends the options" {
				// "-x" is then a filter word, and not a valid filter.
				if err == nil || !strings.Contains(err.Error(), "filter") {
					t.Fatalf("want a filter error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "which pod?"},
		{[]string{"web-0", "-w", "x.scap"}, "named by the plugin"},
		{[]string{"web-0", "-r", "x.scap"}, "syscope -r FILE"},
		{[]string{"web-0", "--bogus"}, "unknown option --bogus"},
		{[]string{"web-0", "-M", "0"}, "positive"},
		{[]string{"web-0", "-M", "x"}, "seconds"},
		{[]string{"web-0", "-n"}, "needs a value"},
		{[]string{"-l", "a=b", "-c", "x"}, "cannot be combined"},
		{[]string{"web-0", "proc.name="}, "filter is not valid"},
		{[]string{"web-0", "--snaplen", "lots"}, "snaplen"},
		{[]string{"a/b"}, "expected a pod name"},
		{[]string{"web-0", "--start-timeout", "soon"}, "--start-timeout"},
		{[]string{"web-0", "--cgroup", "/x"}, "--node"},
		{[]string{"web-0", "--chisel", "topfiles_bytes"}, "chisels run on the capture file"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): error %v, want one with %q", tt.args, err, tt.want)
		}
	}
}

func TestParseHelp(t *testing.T) {
	o, err := Parse([]string{"--help"})
	if err != nil || !o.Help {
		t.Fatalf("got %v %v", o, err)
	}
}

package field

import (
	"fmt"
	"strings"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/internal/glob"
	"github.com/syscope/syscope/state"
)

// Container and Kubernetes fields (container.*, k8s.*).
func init() {
	registerContainer()
	registerK8s()
}

// container returns the container e's thread runs in, or nil (on the host, or
// when no container event described it).
func container(c *Ctx, e *state.Event) *state.Container {
	t := thread(e)
	if t == nil || t.ContainerID == "" {
		return nil
	}
	return c.State.Containers.Get(t.ContainerID)
}

// containerString registers a field holding a string of the container, with
// no value on the host or when it is empty.
func containerString(name, desc string, get func(x *state.Container) string) {
	register(name, event.PTCharBuf, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		x := container(c, e)
		if x == nil {
			return d, false
		}
		v := get(x)
		if v == "" {
			return d, false
		}
		return append(d, v...), true
	})
}

func registerContainer() {
	register("container.id", event.PTCharBuf, "container id, or host", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		if t.ContainerID == "" {
			return append(d, "host"...), true
		}
		return append(d, t.ContainerID...), true
	})
	register("container.name", event.PTCharBuf, "container name, or host", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		if t.ContainerID == "" {
			return append(d, "host"...), true
		}
		x := c.State.Containers.Get(t.ContainerID)
		if x == nil || x.Name == "" {
			return d, false
		}
		return append(d, x.Name...), true
	})
	containerString("container.image", "container image name (e.g. falcosecurity/falco:latest)", func(x *state.Container) string { return x.Image })
	containerString("container.image.id", "container image id (e.g. 6f7e2741b66b)", func(x *state.Container) string { return x.ImageID })
	registerArg("container.type", event.PTCharBuf, 0, "container type (docker, cri-o...), or host", func(string) (Extractor, error) {
		// For the types it has no name for, sysdig repeats the last value it produced.
		var last string
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			t := thread(e)
			if t == nil {
				return d, false
			}
			if t.ContainerID == "" {
				last = "host"
			} else {
				x := c.State.Containers.Get(t.ContainerID)
				if x == nil {
					return d, false
				}
				if n := x.Type.Name(); n != "" {
					last = n
				}
			}
			return append(d, last...), true
		}, nil
	})
	register("container.privileged", event.PTBool, "true for privileged containers (docker-compatible runtimes only)", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		x := container(c, e)
		if x == nil || !x.Type.DockerCompatible() {
			return d, false
		}
		return appendBool(d, x.Privileged), true
	})
	register("container.mounts", event.PTCharBuf, "the container's mounts, as source:dest:mode:rdwr:propagation separated by commas", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		x := container(c, e)
		if x == nil {
			return d, false
		}
		for i := range x.Mounts {
			if i > 0 {
				d = append(d, ',')
			}
			d = appendMount(d, &x.Mounts[i])
		}
		return d, true
	})
	mountField := func(name, desc string, byDest bool, ex func(d []byte, m *state.Mount) []byte) {
		registerArg(name, event.PTCharBuf, 2, desc, func(arg string) (Extractor, error) {
			idx, byIdx := scanInt(arg, 32)
			return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
				x := container(c, e)
				if x == nil {
					return d, false
				}
				var m *state.Mount
				switch {
				case byIdx:
					if idx >= 0 && idx < int64(len(x.Mounts)) {
						m = &x.Mounts[idx]
					}
				default:
					for i := range x.Mounts {
						p := x.Mounts[i].Source
						if byDest {
							p = x.Mounts[i].Dest
						}
						if glob.Match(arg, p, false) {
							m = &x.Mounts[i]
							break
						}
					}
				}
				if m == nil {
					return d, false
				}
				return ex(d, m), true
			}, nil
		})
	}
	mountField("container.mount", "one mount (source:dest:mode:rdwr:propagation), by index (container.mount[0]) or source glob (container.mount[/usr/local/*])", false, appendMount)
	mountField("container.mount.source", "a mount source, by index or destination glob", true, func(d []byte, m *state.Mount) []byte { return append(d, m.Source...) })
	mountField("container.mount.dest", "a mount destination, by index or source glob", false, func(d []byte, m *state.Mount) []byte { return append(d, m.Dest...) })
	mountField("container.mount.mode", "a mount mode, by index or source glob", false, func(d []byte, m *state.Mount) []byte { return append(d, m.Mode...) })
	mountField("container.mount.rdwr", "whether a mount is read-write, by index or source glob", false, func(d []byte, m *state.Mount) []byte { return appendBool(d, m.RW) })
	mountField("container.mount.propagation", "a mount propagation, by index or source glob", false, func(d []byte, m *state.Mount) []byte { return append(d, m.Propagation...) })
	containerString("container.image.repository", "container image repository (e.g. falcosecurity/falco)", func(x *state.Container) string { return x.ImageRepo })
	containerString("container.image.tag", "container image tag (e.g. latest)", func(x *state.Container) string { return x.ImageTag })
	containerString("container.image.digest", "container image registry digest (e.g. sha256:d977...)", func(x *state.Container) string { return x.ImageDigest })
	for _, f := range []struct {
		name, desc string
		typ        state.ProbeType
	}{
		{"container.healthcheck", "the container's health check command line, or NONE", state.ProbeHealth},
		{"container.liveness_probe", "the container's liveness probe command line, or NONE", state.ProbeLiveness},
		{"container.readiness_probe", "the container's readiness probe command line, or NONE", state.ProbeReadiness},
	} {
		typ := f.typ
		register(f.name, event.PTCharBuf, f.desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			x := container(c, e)
			if x == nil {
				return d, false
			}
			for _, p := range x.Probes {
				if p.Type == typ {
					d = append(d, p.Exe...)
					for _, a := range p.Args {
						d = append(d, ' ')
						d = append(d, a...)
					}
					return d, true
				}
			}
			return append(d, "NONE"...), true
		})
	}
}

func appendMount(d []byte, m *state.Mount) []byte {
	d = append(d, m.Source...)
	d = append(d, ':')
	d = append(d, m.Dest...)
	d = append(d, ':')
	d = append(d, m.Mode...)
	d = append(d, ':')
	d = appendBool(d, m.RW)
	d = append(d, ':')
	return append(d, m.Propagation...)
}

// k8sLabel returns a label of e's container, when the container has labels.
func k8sLabel(c *Ctx, e *state.Event, key string) (string, bool) {
	x := container(c, e)
	if x == nil || len(x.Labels) == 0 {
		return "", false
	}
	v, ok := x.Labels[key]
	return v, ok
}

// sandbox returns the pod sandbox container of e's container (named by its
// io.kubernetes.sandbox.id label), when it has labels.
func sandbox(c *Ctx, e *state.Event) *state.Container {
	id, ok := k8sLabel(c, e, "io.kubernetes.sandbox.id")
	if !ok {
		return nil
	}
	if len(id) > 12 {
		id = id[:12]
	}
	s := c.State.Containers.Get(id)
	if s == nil || len(s.Labels) == 0 {
		return nil
	}
	return s
}

// k8sPod returns the Kubernetes state and the pod of e's thread in it, found
// by the thread's container id, when there is such a state (the capture had
// K8S_E events) and such a pod.
func k8sPod(c *Ctx, e *state.Event) (*state.K8s, *state.K8sObject) {
	k := c.State.K8s
	if k == nil {
		return nil, nil
	}
	t := thread(e)
	if t == nil || t.ContainerID == "" {
		return nil, nil
	}
	p := k.PodOfContainer(t.ContainerID)
	if p == nil {
		return nil, nil
	}
	return k, p
}

// appendK8sLabels appends labels as key:value pairs (key alone for an empty
// value), separated by ", " from what the field already holds since start.
func appendK8sLabels(d []byte, start int, labels []state.K8sLabel) []byte {
	for _, l := range labels {
		if len(d) > start {
			d = append(d, ", "...)
		}
		d = append(d, l.Key...)
		if l.Value != "" {
			d = append(d, ':')
			d = append(d, l.Value...)
		}
	}
	return d
}

// Kubernetes metadata. As sysdig, the pod's name, id, labels and namespace
// name come first from the container runtime's labels; the rest, and those
// when the labels lack them, from the Kubernetes state of K8S_E events
// (written by a live capture with -k): the pod whose containers include the
// thread's container, and the namespace, services and controllers of that pod.
func registerK8s() {
	// podField registers a field read from a runtime label, else from the pod.
	podField := func(name, desc, label string, get func(p *state.K8sObject) string) {
		register(name, event.PTCharBuf, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			if v, ok := k8sLabel(c, e, label); ok {
				return append(d, v...), true
			}
			_, p := k8sPod(c, e)
			if p == nil {
				return d, false
			}
			return append(d, get(p)...), true
		})
	}
	podField("k8s.pod.name", "Kubernetes pod name", "io.kubernetes.pod.name", func(p *state.K8sObject) string { return p.Name })
	podField("k8s.pod.id", "Kubernetes pod id", "io.kubernetes.pod.uid", func(p *state.K8sObject) string { return p.UID })
	checkLabel := labelArg("k8s.pod.label")
	registerArg("k8s.pod.label", event.PTCharBuf, 2, "Kubernetes pod label (k8s.pod.label.foo)", func(arg string) (Extractor, error) {
		if err := checkLabel(arg); err != nil {
			return nil, err
		}
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			if s := sandbox(c, e); s != nil {
				if v, ok := s.Labels[arg]; ok {
					return append(d, v...), true
				}
			}
			_, p := k8sPod(c, e)
			if p == nil {
				return d, false
			}
			v, ok := p.Label(arg)
			if !ok {
				return d, false
			}
			return append(d, v...), true
		}, nil
	})
	register("k8s.pod.labels", event.PTCharBuf, "Kubernetes pod labels, as key:value pairs separated by commas", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		start := len(d)
		if s := sandbox(c, e); s != nil {
			for _, k := range s.LabelKeys() {
				// Annotations and the runtime's own labels are not pod labels.
				if strings.HasPrefix(k, "annotation.") || strings.HasPrefix(k, "io.kubernetes.") {
					continue
				}
				if len(d) > start {
					d = append(d, ", "...)
				}
				d = append(d, k...)
				if v := s.Labels[k]; v != "" {
					d = append(d, ':')
					d = append(d, v...)
				}
			}
			return d, true
		}
		_, p := k8sPod(c, e)
		if p == nil {
			return d, false
		}
		return appendK8sLabels(d, start, p.Labels), true
	})

	// owned registers the fields of an object related to the pod (its
	// namespace, replication controller, replica set or deployment).
	owned := func(prefix, what string, of func(k *state.K8s, p *state.K8sObject) *state.K8sObject) {
		get := func(c *Ctx, e *state.Event) *state.K8sObject {
			k, p := k8sPod(c, e)
			if p == nil {
				return nil
			}
			return of(k, p)
		}
		if prefix != "k8s.ns" { // k8s.ns.name is the pod's namespace, below
			register(prefix+".name", event.PTCharBuf, fmt.Sprintf("Kubernetes %s name", what), func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
				o := get(c, e)
				if o == nil {
					return d, false
				}
				return append(d, o.Name...), true
			})
		}
		register(prefix+".id", event.PTCharBuf, fmt.Sprintf("Kubernetes %s id", what), func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			o := get(c, e)
			if o == nil {
				return d, false
			}
			return append(d, o.UID...), true
		})
		check := labelArg(prefix + ".label")
		registerArg(prefix+".label", event.PTCharBuf, 2, fmt.Sprintf("Kubernetes %s label (%s.label.foo)", what, prefix), func(arg string) (Extractor, error) {
			if err := check(arg); err != nil {
				return nil, err
			}
			return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
				o := get(c, e)
				if o == nil {
					return d, false
				}
				v, ok := o.Label(arg)
				if !ok {
					return d, false
				}
				return append(d, v...), true
			}, nil
		})
		register(prefix+".labels", event.PTCharBuf, fmt.Sprintf("Kubernetes %s labels, as key:value pairs separated by commas", what), func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			o := get(c, e)
			if o == nil {
				return d, false
			}
			return appendK8sLabels(d, len(d), o.Labels), true
		})
	}
	owned("k8s.rc", "replication controller", (*state.K8s).ReplicationControllerOf)

	// A pod may have several services: their values are joined with ", ".
	services := func(c *Ctx, e *state.Event) []*state.K8sObject {
		k, p := k8sPod(c, e)
		if p == nil {
			return nil
		}
		return k.ServicesOf(p)
	}
	svcString := func(name, desc string, get func(o *state.K8sObject) string) {
		register(name, event.PTCharBuf, desc, func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			l := services(c, e)
			if len(l) == 0 {
				return d, false
			}
			start := len(d)
			for _, o := range l {
				if len(d) > start {
					d = append(d, ", "...)
				}
				d = append(d, get(o)...)
			}
			return d, true
		})
	}
	svcString("k8s.svc.name", "Kubernetes service name", func(o *state.K8sObject) string { return o.Name })
	svcString("k8s.svc.id", "Kubernetes service id", func(o *state.K8sObject) string { return o.UID })
	checkSvcLabel := labelArg("k8s.svc.label")
	registerArg("k8s.svc.label", event.PTCharBuf, 2, "Kubernetes service label (k8s.svc.label.foo)", func(arg string) (Extractor, error) {
		if err := checkSvcLabel(arg); err != nil {
			return nil, err
		}
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			start := len(d)
			for _, o := range services(c, e) {
				if v, ok := o.Label(arg); ok {
					if len(d) > start {
						d = append(d, ", "...)
					}
					d = append(d, v...)
				}
			}
			// Nothing, even from empty values, is no value.
			return d, len(d) > start
		}, nil
	})
	register("k8s.svc.labels", event.PTCharBuf, "Kubernetes service labels, as key:value pairs separated by commas", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		l := services(c, e)
		if len(l) == 0 {
			return d, false
		}
		start := len(d)
		for _, o := range l {
			d = appendK8sLabels(d, start, o.Labels)
		}
		return d, true
	})

	podField("k8s.ns.name", "Kubernetes namespace name", "io.kubernetes.pod.namespace", func(p *state.K8sObject) string { return p.Namespace })
	owned("k8s.ns", "namespace", func(k *state.K8s, p *state.K8sObject) *state.K8sObject { return k.Namespace(p.Namespace) })
	owned("k8s.rs", "replica set", (*state.K8s).ReplicaSetOf)
	owned("k8s.deployment", "deployment", (*state.K8s).DeploymentOf)
}

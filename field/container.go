package field

import (
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// Container and Kubernetes fields (container.*, k8s.*).
func init() {
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
	register("container.image", event.PTCharBuf, "container image name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		x := container(c, e)
		if x == nil || x.Image == "" {
			return d, false
		}
		return append(d, x.Image...), true
	})
	register("k8s.pod.name", event.PTCharBuf, "Kubernetes pod name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return label(c, e, d, "io.kubernetes.pod.name")
	})
	register("k8s.ns.name", event.PTCharBuf, "Kubernetes namespace name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return label(c, e, d, "io.kubernetes.pod.namespace")
	})
}

func container(c *Ctx, e *state.Event) *state.Container {
	t := thread(e)
	if t == nil || t.ContainerID == "" {
		return nil
	}
	return c.State.Containers.Get(t.ContainerID)
}

func label(c *Ctx, e *state.Event, d []byte, key string) ([]byte, bool) {
	x := container(c, e)
	if x == nil {
		return d, false
	}
	v, ok := x.Labels[key]
	if !ok || v == "" {
		return d, false
	}
	return append(d, v...), true
}

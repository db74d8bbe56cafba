package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/syscope/syscope/container"
	"github.com/syscope/syscope/container/runtimes"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/k8s"
	"github.com/syscope/syscope/scap"
)

// liveMeta gives a live capture its container metadata, the way sysdig
// does: the container events of the containers running when the capture
// starts come first (a reader consumes them with the file's tables), and a
// container seen later gets its container event as soon as its runtime has
// described it. Lookups run in the background (container.Resolver): an
// event never waits for a runtime socket.
//
// Threads are tied to their container by their cgroups: by sysdig's rules
// when the path carries the container id, and for containerd's own
// containers (`ctr run`: "/default/NAME") by the cgroup paths the container
// event lists under its "syscope" key.
type liveMeta struct {
	res       *container.Resolver
	byCgroup  bool                       // a source can find containers by cgroup path
	listed    map[string]*container.Info // containers listed at the start, by the id sysdig reports
	listedCg  container.CgroupIndex      // their cgroup paths, for those whose paths carry no id
	emitted   map[string]bool            // ids whose container event went out
	asked     map[string]bool            // ids and cgroup paths asked about
	ready     []*container.Info          // container events to deliver before the next probe event
	cgParam   [event.MaxType]int8        // index of the "cgroups" parameter of each event type, -1 if none
	cgroupBuf []string
}

// startupListTimeout bounds the listing of each runtime's containers when the
// capture starts (the only moment syscope waits for a runtime).
const startupListTimeout = 2 * time.Second

// newLiveMeta opens the container runtimes found on this host (or named by
// --cri and --docker), lists their containers and queues the container events
// of those that have threads in the /proc scan. It returns nil when no runtime
// answers (a host without containers); each runtime that does not answer is
// named in one warning.
func newLiveMeta(o *Options, threads []scap.Thread, stderr io.Writer) *liveMeta {
	var opts []container.DetectOption
	if len(o.CRISockets) > 0 {
		opts = append(opts, container.WithCRISocket(o.CRISockets...))
	}
	if len(o.DockerSockets) > 0 {
		opts = append(opts, container.WithDockerSocket(o.DockerSockets...))
	}
	eps := container.Detect(opts...)
	if len(eps) == 0 {
		return nil
	}
	timeout := runtimes.DefaultTimeout
	if o.CRITimeoutMs > 0 {
		timeout = time.Duration(o.CRITimeoutMs) * time.Millisecond
	}
	srcs, errs := runtimes.Open(context.Background(), eps, timeout)
	for _, err := range errs {
		fmt.Fprintf(stderr, "syscope: warning: %v; its containers' fields will read <NA>\n", err)
	}
	if len(srcs) == 0 {
		return nil
	}
	m := &liveMeta{
		listed:   make(map[string]*container.Info),
		listedCg: make(container.CgroupIndex),
		emitted:  make(map[string]bool),
		asked:    make(map[string]bool),
	}
	for i := range m.cgParam {
		m.cgParam[i] = -1
		for j, p := range event.Type(i).Info().Params {
			if p.Name == "cgroups" {
				m.cgParam[i] = int8(j)
			}
		}
	}
	var (
		warned sync.Map
		mu     sync.Mutex
	)
	warn := func(source string, err error) {
		if _, dup := warned.LoadOrStore(source, true); dup {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "syscope: warning: container runtime %s does not answer (%v); its containers' fields will read <NA> until it does\n", source, err)
	}
	for _, s := range srcs {
		if _, ok := s.(container.CgroupSource); ok {
			m.byCgroup = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), startupListTimeout)
		list, err := s.List(ctx)
		cancel()
		if err != nil {
			warn(s.Name(), err)
			continue
		}
		for _, x := range list {
			if x.ID != "" && m.listed[x.ID] == nil {
				m.listed[x.ID] = x
				for _, p := range x.Ext.Cgroups {
					m.listedCg.Add(p, x.ID)
				}
			}
		}
	}
	m.res = container.NewResolver(srcs, container.WithWarn(warn))
	// The containers that have threads now, in the order of the scan.
	for i := range threads {
		m.observeCgroups(threads[i].Cgroups)
	}
	return m
}

// observeCgroups notes a thread's cgroups ("subsys=path" strings): a
// container not seen yet gets its event queued (when it was listed at the
// start) or looked up.
func (m *liveMeta) observeCgroups(cgroups []string) {
	if len(cgroups) == 0 {
		return
	}
	if match, ok := container.MatchCgroups(cgroups, nil); ok {
		id := match.ID
		if m.emitted[id] || m.asked[id] {
			return
		}
		if x := m.listed[id]; x != nil {
			m.emitted[id] = true
			m.ready = append(m.ready, x)
			return
		}
		m.asked[id] = true
		m.res.Request(id, "")
		return
	}
	if !m.byCgroup {
		return
	}
	path := container.PrimaryCgroup(cgroups)
	if path == "" || m.asked[path] {
		return
	}
	m.asked[path] = true
	if id, ok := m.listedCg.Lookup(path); ok {
		if !m.emitted[id] {
			m.emitted[id] = true
			m.ready = append(m.ready, m.listed[id])
		}
		return
	}
	m.res.Request("", path)
}

// observe looks at an event from the probe: the threads that clone and
// execve events describe may be in a new container.
func (m *liveMeta) observe(ev *scap.Event) {
	if int(ev.Type) >= len(m.cgParam) {
		return
	}
	i := m.cgParam[ev.Type]
	if i < 0 {
		return
	}
	p := ev.Param(int(i))
	if len(p) == 0 {
		return
	}
	m.cgroupBuf = m.cgroupBuf[:0]
	for _, s := range bytes.Split(bytes.TrimRight(p, "\x00"), []byte{0}) {
		m.cgroupBuf = append(m.cgroupBuf, string(s))
	}
	m.observeCgroups(m.cgroupBuf)
}

// next fills ev with a pending container event, at time ts (the last
// event's), and reports whether there was one: the queued ones first, then
// the answers of lookups.
func (m *liveMeta) next(ev *scap.Event, ts uint64) bool {
	for {
		var x *container.Info
		switch {
		case len(m.ready) > 0:
			x = m.ready[0]
			m.ready = m.ready[1:]
		case len(m.res.Updates()) > 0:
			x = <-m.res.Updates()
			// A lookup by cgroup path that found nothing: a host cgroup.
			if x == nil || x.ID == "" {
				continue
			}
			if m.emitted[x.ID] && x.LookupState != container.LookupSuccessful {
				continue
			}
			m.emitted[x.ID] = true
		default:
			return false
		}
		containerEvent(ev, x, ts)
		return true
	}
}

// containerEvent fills ev with x's container event, as sysdig writes it: a
// CONTAINER_JSON_2 event of no thread (tid -1) on CPU 0, at the time of the
// last event (now, before the first one).
func containerEvent(ev *scap.Event, x *container.Info, ts uint64) {
	if ts == 0 {
		ts = uint64(time.Now().UnixNano())
	}
	js := x.JSON()
	ev.Ts, ev.Tid, ev.CPU, ev.Flags = ts, -1, 0, 0
	ev.Type = event.ContainerJsonV2E
	ev.Large = true
	ev.Data = append(append(ev.Data[:0], js...), 0)
	ev.Lens = append(ev.Lens[:0], uint32(len(js)+1))
	ev.Offs = append(ev.Offs[:0], 0)
	ev.NParams = 1
}

// close stops the lookups.
func (m *liveMeta) close() {
	if m != nil {
		m.res.Close()
	}
}

// k8sSyncWait bounds how long a live capture waits, when it starts, for the
// Kubernetes API server's first answers, so that they head the file.
const k8sSyncWait = 3 * time.Second

// startK8s starts watching the Kubernetes API when one is configured: -k (or
// $SYSDIG_K8S_API) with -K, $KUBECONFIG, or the service account of a pod. It
// returns nil without one. An API server that does not answer costs one
// warning; the capture goes on with the runtime's pod labels only.
func startK8s(o *Options, stderr io.Writer) *k8s.Watcher {
	api, cert := o.K8sAPI, o.K8sAPICert
	if api == "" {
		api = os.Getenv("SYSDIG_K8S_API")
	}
	if cert == "" {
		cert = os.Getenv("SYSDIG_K8S_API_CERT")
	}
	var opts []k8s.Option
	switch {
	case api != "":
		opts = append(opts, k8s.WithAPIServer(api))
		if cert != "" {
			opts = append(opts, k8s.WithCert(cert))
		}
	case os.Getenv("KUBECONFIG") != "" || os.Getenv("KUBERNETES_SERVICE_HOST") != "":
		// client-go's usual order: $KUBECONFIG, then in-cluster.
	default:
		return nil
	}
	if o.NodeName != "" {
		opts = append(opts, k8s.WithNode(o.NodeName))
	}
	var mu sync.Mutex
	opts = append(opts, k8s.WithWarn(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "syscope: %s\n", msg)
	}))
	w, err := k8s.New(context.Background(), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "syscope: warning: Kubernetes metadata off: %v\n", err)
		return nil
	}
	// Until the first state is in, or the watcher has given up (it said
	// why), or k8sSyncWait.
	for deadline := time.Now().Add(k8sSyncWait); time.Now().Before(deadline) && w.Err() == nil; {
		select {
		case <-w.Synced():
			return w
		case <-time.After(50 * time.Millisecond):
		}
	}
	return w
}

// stopK8s stops the watcher; when the API server never answered and the
// watcher had not said so yet, it says so now.
func stopK8s(w *k8s.Watcher, stderr io.Writer) {
	synced := false
	select {
	case <-w.Synced():
		synced = true
	default:
	}
	failed := w.Err() != nil
	w.Close()
	if !synced && !failed {
		fmt.Fprintf(stderr, "syscope: warning: the Kubernetes API server did not answer during the capture: k8s.* fields come from container labels only\n")
	}
}

// k8sEvent fills ev with a K8S event carrying payload (the JSON, its newline
// and NUL), as sysdig writes them: tid 0, CPU 0, at the time of the last event.
func k8sEvent(ev *scap.Event, payload []byte, ts uint64) {
	if ts == 0 {
		ts = uint64(time.Now().UnixNano())
	}
	ev.Ts, ev.Tid, ev.CPU, ev.Flags = ts, 0, 0, 0
	ev.Type = event.K8sE
	ev.Large = false
	ev.Data = append(ev.Data[:0], payload...)
	ev.Lens = append(ev.Lens[:0], uint32(len(payload)))
	ev.Offs = append(ev.Offs[:0], 0)
	ev.NParams = 1
}
